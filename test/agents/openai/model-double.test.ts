import { afterEach, describe, expect, it } from 'vitest'
import {
  startModelDouble,
  type RunningModelDouble,
  type ScriptStep,
} from '../../../src/agents/openai/double/index.js'

let running: RunningModelDouble | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

const KEY = 'sk-double-test-key'
const start = async (script: ScriptStep[] = [{ content: 'hi' }]) => {
  running = await startModelDouble({ apiKey: KEY, script })
  return running
}

async function chat(body: unknown, key = KEY): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${running?.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: res.status, json: (await res.json()) as Record<string, unknown> }
}

const sys = { role: 'system', content: 'be brief' }
const user = { role: 'user', content: 'hello' }
const call = { id: 'call_a', type: 'function', function: { name: 'git_status', arguments: '{}' } }

describe('model double: requests as OpenAI validates them', () => {
  it('answers a valid request with the next scripted step, and lists models', async () => {
    await start([{ content: 'first' }, { content: 'second' }])
    const a = await chat({ model: 'm', messages: [sys, user] })
    const b = await chat({ model: 'm', messages: [sys, user] })
    expect(a.status).toBe(200)
    expect(a.json).toMatchObject({
      object: 'chat.completion',
      model: 'm',
      choices: [{ message: { role: 'assistant', content: 'first' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    })
    expect((b.json.choices as { message: { content: string } }[])[0]?.message.content).toBe('second')
    const models = await fetch(`${running?.url}/v1/models`, { headers: { authorization: `Bearer ${KEY}` } })
    expect(await models.json()).toMatchObject({ object: 'list', data: [{ id: 'double-model' }] })
  })

  it('scripts tool calls with JSON-string arguments, and content null beside them', async () => {
    await start([{ toolCalls: [{ id: 'call_x', name: 'file_read', arguments: { path: 'a' } }], usage: null }])
    const r = await chat({ model: 'm', messages: [user] })
    expect(r.json.usage).toBeUndefined()
    expect(r.json.choices).toEqual([
      expect.objectContaining({
        finish_reason: 'tool_calls',
        message: expect.objectContaining({
          content: null,
          tool_calls: [
            { id: 'call_x', type: 'function', function: { name: 'file_read', arguments: '{"path":"a"}' } },
          ],
        }),
      }),
    ])
  })

  const bad: [string, unknown, RegExp][] = [
    ['a body that is not JSON', '{"model": ', /could not parse the JSON body/],
    ['no model', { messages: [user] }, /model/],
    ['no messages', { model: 'm', messages: [] }, /messages/],
    ['an unknown role', { model: 'm', messages: [{ role: 'wizard', content: 'x' }] }, /messages\.\[0\]/],
    [
      'tool_calls arguments that are an object, not a string',
      {
        model: 'm',
        messages: [
          user,
          { role: 'assistant', tool_calls: [{ ...call, function: { name: 'x', arguments: {} } }] },
        ],
      },
      /arguments/,
    ],
    [
      'a tool message without a preceding tool call',
      { model: 'm', messages: [user, { role: 'tool', tool_call_id: 'call_a', content: 'x' }] },
      /must be a response to a preceeding message with 'tool_calls'/,
    ],
    [
      'a tool call left unanswered',
      { model: 'm', messages: [user, { role: 'assistant', content: null, tool_calls: [call] }] },
      /did not have response messages: call_a/,
    ],
    [
      'a tool message answering another id',
      {
        model: 'm',
        messages: [
          user,
          { role: 'assistant', content: null, tool_calls: [call] },
          { role: 'tool', tool_call_id: 'call_b', content: 'x' },
        ],
      },
      /'call_b' not found/,
    ],
    [
      'a tool message without tool_call_id',
      {
        model: 'm',
        messages: [user, { role: 'assistant', tool_calls: [call] }, { role: 'tool', content: 'x' }],
      },
      /tool_call_id/,
    ],
    [
      'a function name OpenAI refuses',
      {
        model: 'm',
        messages: [user],
        tools: [{ type: 'function', function: { name: 'no spaces', parameters: {} } }],
      },
      /tools\.\[0\]\.function\.name/,
    ],
    ['stream: true', { model: 'm', messages: [user], stream: true }, /does not stream/],
  ]
  it.each(bad)(
    'answers 400 with an OpenAI error body to %s, and consumes no step',
    async (_name, body, message) => {
      await start()
      const r = await chat(body)
      expect(r.status).toBe(400)
      expect(Object.keys(r.json)).toEqual(['error'])
      expect(r.json.error).toEqual({
        message: expect.stringMatching(message),
        type: 'invalid_request_error',
        param: typeof body === 'string' ? null : expect.any(String),
        code: null,
      })
      expect((await chat({ model: 'm', messages: [user] })).status).toBe(200)
    },
  )

  it('accepts a full thread: assistant tool calls answered by tool messages', async () => {
    await start()
    const r = await chat({
      model: 'm',
      messages: [
        sys,
        user,
        { role: 'assistant', content: null, tool_calls: [call, { ...call, id: 'call_b' }] },
        { role: 'tool', tool_call_id: 'call_b', content: 'b' },
        { role: 'tool', tool_call_id: 'call_a', content: 'a' },
      ],
    })
    expect(r.status).toBe(200)
    expect(running?.double.requests.at(-1)?.messages).toHaveLength(5)
  })

  it('refuses a missing or wrong key with 401 and does not log the header', async () => {
    await start()
    const r = await chat({ model: 'm', messages: [user] }, 'sk-wrong')
    expect(r.status).toBe(401)
    expect(r.json).toMatchObject({ error: { code: 'invalid_api_key' } })
    expect(JSON.stringify(r.json)).not.toContain('sk-wrong')
    const none = await fetch(`${running?.url}/v1/models`)
    expect(none.status).toBe(401)
    expect(running?.double.requests.map((q) => [q.status, q.authorized])).toEqual([
      [401, false],
      [401, false],
    ])
    expect(JSON.stringify(running?.double.requests)).not.toContain(KEY)
  })

  it('faults: 429 with Retry-After, 500, malformed bodies, then the script resumes where it was', async () => {
    await start([{ content: 'after the faults' }])
    running?.double.faults.add({ status: 429, retryAfter: 7 })
    running?.double.faults.add({ status: 500, count: 1 })
    running?.double.faults.add({ malformed: 'json' })
    running?.double.faults.add({ malformed: 'shape' })
    const post = () =>
      fetch(`${running?.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}` },
        body: JSON.stringify({ model: 'm', messages: [user] }),
      })
    const limited = await post()
    expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '7'])
    expect(await limited.json()).toMatchObject({ error: { type: 'rate_limit_exceeded' } })
    expect((await post()).status).toBe(500)
    const broken = await post()
    expect(broken.status).toBe(200)
    await expect(broken.text().then((t) => JSON.parse(t))).rejects.toThrow()
    expect(await (await post()).json()).toMatchObject({ choices: 'none' })
    expect(await (await post()).json()).toMatchObject({
      choices: [{ message: { content: 'after the faults' } }],
    })
  })

  it('keeps the last logLimit requests', async () => {
    running = await startModelDouble({ logLimit: 2 })
    for (const path of ['/v1/models', '/v1/a', '/v1/b']) await fetch(`${running.url}${path}`)
    expect(running.double.requests.map((r) => [r.path, r.status])).toEqual([
      ['/v1/a', 404],
      ['/v1/b', 404],
    ])
  })

  it('a script without a step for the request answers 500 saying so', async () => {
    await start([])
    const r = await chat({ model: 'm', messages: [user] })
    expect(r.status).toBe(500)
    expect(r.json).toMatchObject({ error: { message: "the model double's script has no step 0" } })
  })
})
