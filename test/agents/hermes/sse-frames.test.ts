import { describe, expect, it } from 'vitest'
import { MAX_FRAME_CHARS, sseFrames, type SseFrame } from '../../../src/agents/hermes/sse-frames.js'

function body(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(encoder.encode(c))
      controller.close()
    },
  })
}

async function frames(chunks: string[]): Promise<SseFrame[]> {
  const out: SseFrame[] = []
  for await (const f of sseFrames(body(chunks))) out.push(f)
  return out
}

describe('sseFrames', () => {
  it.each([
    [
      'legacy data-only frames',
      ['data: {"a":1}\n\ndata: {"b":2}\n\n'],
      [{ data: '{"a":1}' }, { data: '{"b":2}' }],
    ],
    ['id and event lines', ['id: 7\nevent: x\ndata: {}\n\n'], [{ id: '7', event: 'x', data: '{}' }]],
    ['comments are not frames', [': open\n\n: keepalive\n\ndata: 1\n\n: stream closed\n\n'], [{ data: '1' }]],
    ['data lines are joined', ['data: a\ndata: b\n\n'], [{ data: 'a\nb' }]],
    ['CRLF and CR line ends', ['data: a\r\n\r\ndata: b\r\r'], [{ data: 'a' }, { data: 'b' }]],
    ['a CRLF split across chunks', ['data: a\r', '\n\r\n'], [{ data: 'a' }]],
    [
      'a frame split mid-character',
      ['data: "\xe2', '\x9c\x93"\n\n'].map((s) => s),
      [{ data: '"\xe2\x9c\x93"' }],
    ],
    [
      'an id belongs to its own frame only',
      ['id: 3\ndata: a\n\ndata: b\n\n'],
      [{ id: '3', data: 'a' }, { data: 'b' }],
    ],
    ['an unterminated last frame is not dispatched', ['data: a\n\ndata: partial'], [{ data: 'a' }]],
  ])('%s', async (_name, chunks, expected) => {
    expect(await frames(chunks)).toEqual(expected)
  })

  it('a multi-byte character split across chunks decodes whole', async () => {
    const bytes = new TextEncoder().encode('data: ✓\n\n')
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, 7))
        controller.enqueue(bytes.slice(7))
        controller.close()
      },
    })
    const out: SseFrame[] = []
    for await (const f of sseFrames(stream)) out.push(f)
    expect(out).toEqual([{ data: '✓' }])
  })

  it('an endless frame is refused instead of filling memory', async () => {
    const huge = `data: ${'x'.repeat(MAX_FRAME_CHARS + 10)}`
    await expect(frames([huge])).rejects.toThrow(/exceeded/)
  })
})
