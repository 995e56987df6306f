/** One server-sent event: its `data` lines joined by newlines, and its own `id`/`event` fields if sent. */
export interface SseFrame {
  id?: string
  event?: string
  data: string
}

/** Frames larger than this end the stream with an error instead of growing memory without bound. */
export const MAX_FRAME_CHARS = 4 * 1024 * 1024

/**
 * Reads an SSE body frame by frame (the WHATWG rules the contract's §6.2 asks for): lines that
 * start with `:` are comments (keepalives), `id:` and `event:` are optional, `data:` lines are
 * concatenated, a blank line dispatches. `onActivity` is called for every chunk received, comments
 * included, so an idle watchdog sees keepalives.
 *
 * @example
 *   for await (const frame of sseFrames(response.body, () => idle.reset())) handle(JSON.parse(frame.data))
 */
export async function* sseFrames(
  body: ReadableStream<Uint8Array>,
  onActivity: () => void = () => {},
): AsyncGenerator<SseFrame> {
  const decoder = new TextDecoder('utf-8')
  const reader = body.getReader()
  let buffer = ''
  let data: string[] = []
  let dataChars = 0
  let id: string | undefined
  let event: string | undefined
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) {
        // A stream that ends in a lone \r has ended its last line (and, if blank, its frame).
        if (buffer === '\r' && data.length > 0)
          yield { data: data.join('\n'), ...(id === undefined ? {} : { id }) }
        return
      }
      onActivity()
      buffer += decoder.decode(value, { stream: true })
      for (;;) {
        const match = /\r\n|\n|\r/.exec(buffer)
        if (!match) break
        // A lone \r at the end of the chunk may be the first half of \r\n: wait for more.
        if (match[0] === '\r' && match.index === buffer.length - 1) break
        const line = buffer.slice(0, match.index)
        buffer = buffer.slice(match.index + match[0].length)
        if (line === '') {
          if (data.length > 0)
            yield { data: data.join('\n'), ...(id === undefined ? {} : { id }), ...(event ? { event } : {}) }
          // Unlike a browser's EventSource, an id belongs only to the frame that carried it: a
          // frame without one (raw text, `replay.truncated`) must not pass for a duplicate.
          data = []
          dataChars = 0
          event = undefined
          id = undefined
          continue
        }
        if (line.startsWith(':')) continue
        const colon = line.indexOf(':')
        const field = colon === -1 ? line : line.slice(0, colon)
        let value = colon === -1 ? '' : line.slice(colon + 1)
        if (value.startsWith(' ')) value = value.slice(1)
        if (field === 'data') {
          dataChars += value.length
          if (dataChars > MAX_FRAME_CHARS)
            throw new Error(`an event frame exceeded ${MAX_FRAME_CHARS} characters`)
          data.push(value)
        } else if (field === 'id') {
          if (!value.includes('\0')) id = value
        } else if (field === 'event') {
          event = value
        }
      }
      if (buffer.length > MAX_FRAME_CHARS)
        throw new Error(`an event line exceeded ${MAX_FRAME_CHARS} characters`)
    }
  } finally {
    reader.cancel().catch(() => {})
  }
}
