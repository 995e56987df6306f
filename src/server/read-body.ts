/** Why a body could not be read. */
export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError'
  constructor(readonly limit: number) {
    super(`request body is larger than ${limit} bytes`)
  }
}

/**
 * Reads a request body into one buffer, stopping as soon as it passes `limit` bytes, so a huge
 * upload costs at most `limit` bytes of memory and is cut off early.
 *
 * @example
 *   const raw = await readBody(c.req.raw.body, 5 * 1024 * 1024)
 */
export async function readBody(stream: ReadableStream<Uint8Array> | null, limit: number): Promise<Buffer> {
  if (!stream) return Buffer.alloc(0)
  const reader = stream.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel().catch(() => undefined)
      throw new BodyTooLargeError(limit)
    }
    chunks.push(value)
  }
  return chunks.length === 1
    ? Buffer.from(chunks[0]!.buffer, chunks[0]!.byteOffset, size)
    : Buffer.concat(chunks, size)
}
