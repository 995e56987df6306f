import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import type { ToolContext } from '../tool.js'
import { resolveInWorkspace } from '../workspace.js'

/** Streams a file: its sha256 and size, plus its first `keep` bytes. */
export async function readCapped(
  file: string,
  keep: number,
  signal?: AbortSignal,
): Promise<{ sha256: string; size: number; head: Buffer }> {
  const hash = createHash('sha256')
  const chunks: Buffer[] = []
  let kept = 0
  let size = 0
  for await (const chunk of createReadStream(file, { signal }) as AsyncIterable<Buffer>) {
    hash.update(chunk)
    size += chunk.length
    if (kept < keep) {
      const part = chunk.subarray(0, keep - kept)
      chunks.push(part)
      kept += part.length
    }
  }
  return { sha256: hash.digest('hex'), size, head: Buffer.concat(chunks) }
}

/** `targetDigest` of a `file:` target: sha256 of the current content, undefined when missing. */
export async function fileDigest(userPath: string, ctx: ToolContext): Promise<string | undefined> {
  try {
    const r = await resolveInWorkspace(userPath, ctx.workspaceRoots, { kind: 'file' })
    return (await readCapped(r.path, 0, ctx.signal)).sha256
  } catch {
    return undefined
  }
}
