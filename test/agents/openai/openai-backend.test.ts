import { afterEach, describe, expect, it } from 'vitest'
import { OpenAIBackend, type OpenAIBackendOptions } from '../../../src/agents/openai/index.js'
import {
  startModelDouble,
  type RunningModelDouble,
  type Script,
} from '../../../src/agents/openai/double/index.js'
import { fakeContext, offer, task } from './helpers.js'

let running: RunningModelDouble | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

const KEY = 'sk-planted-7f3a9c2e1b'

async function setup(script: Script, options: Partial<OpenAIBackendOptions> = {}) {
  running = await startModelDouble({ apiKey: KEY, script })
  const sleeps: number[] = []
  const backend = new OpenAIBackend({
    baseUrl: `${running.url}/v1`,
    apiKey: KEY,
    model: 'double-model',
    sleep: async (ms) => {
      sleeps.push(ms)
    },
    ...options,
  })
  return { backend, double: running.double, sleeps }
}

describe('openai backend: the loop', () => {
  it('runs two tool-call turns, threads each result back under its call id, and ends on the answer', async () => {
    const { backend, double } = await setup([
      {
        toolCalls: [{ id: 'call_list', name: 'file_list', arguments: { path: '.' } }],
        content: 'Looking around.',
      },
      {
        toolCalls: [
          { id: 'call_r1', name: 'file_read', arguments: '{"path":"README.md"}' },
          { id: 'call_r2', name: 'file_read', arguments: { path: 'docs/a.md' } },
        ],
        usage: { prompt_tokens: 100, completion_tokens: 20 },
      },
      { content: 'README.md says hello.', model: 'double-model-2025' },
    ])
    const { ctx, events, calls } = fakeContext()
    const outcome = await backend.run(task(), ctx)

    expect(outcome).toMatchObject({
      status: 'completed',
      answer: 'README.md says hello.',
      model: 'double-model-2025',
      turns: 3,
      usage: { inputTokens: 120, outputTokens: 30, totalTokens: 150 },
    })
    expect(outcome.runId).toMatch(/^loop_[0-9a-f]{16}$/)
    expect(outcome.error).toBeUndefined()
    expect(calls.map((c) => [c.name, c.args])).toEqual([
      ['file_list', { path: '.' }],
      ['file_read', { path: 'README.md' }],
      ['file_read', { path: 'docs/a.md' }],
    ])

    const [first, second, third] = double.chatRequests
    expect(double.chatRequests).toHaveLength(3)
    expect(first?.messages).toEqual([
      { role: 'system', content: 'You are Ezra. Read, never write.' },
      { role: 'user', content: 'What does README.md say?' },
    ])
    expect(first?.model).toBe('double-model')
    expect(first?.tools?.map((t) => [t.type, t.function.name, t.function.parameters?.type])).toEqual([
      ['function', 'file_read', 'object'],
      ['function', 'file_list', 'object'],
    ])
    expect(second?.messages.slice(2)).toEqual([
      {
        role: 'assistant',
        content: 'Looking around.',
        tool_calls: [
          { id: 'call_list', type: 'function', function: { name: 'file_list', arguments: '{"path":"."}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_list', content: 'file_list ran with {"path":"."}' },
    ])
    expect(third?.messages.slice(4)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_r1',
            type: 'function',
            function: { name: 'file_read', arguments: '{"path":"README.md"}' },
          },
          {
            id: 'call_r2',
            type: 'function',
            function: { name: 'file_read', arguments: '{"path":"docs/a.md"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_r1', content: 'file_read ran with {"path":"README.md"}' },
      { role: 'tool', tool_call_id: 'call_r2', content: 'file_read ran with {"path":"docs/a.md"}' },
    ])

    expect(events.map((e) => e.kind)).toEqual([
      'run.started',
      'usage',
      'message',
      'tool.started',
      'tool.finished',
      'usage',
      'tool.started',
      'tool.finished',
      'tool.started',
      'tool.finished',
      'usage',
      'message',
    ])
    expect(events[0]).toMatchObject({ kind: 'run.started', runId: outcome.runId })
    expect(events[2]).toMatchObject({ kind: 'message', text: 'Looking around.' })
    expect(events[2]).not.toHaveProperty('final')
    expect(events[3]).toMatchObject({ callId: 'call_list', tool: 'file_list', args: '{"path":"."}' })
    expect(events[4]).toMatchObject({ callId: 'call_list', tool: 'file_list', status: 'success' })
    expect(events.filter((e) => e.kind === 'usage').map((e) => e.usage.totalTokens)).toEqual([15, 135, 150])
    expect(events.at(-1)).toEqual({
      kind: 'message',
      at: expect.any(Number),
      text: 'README.md says hello.',
      final: true,
    })
  })

  it('passes the harness status and content through: a denied call is told to the model as such', async () => {
    const { backend, double } = await setup([
      { toolCalls: [{ id: 'c1', name: 'file_read', arguments: { path: '/etc/shadow' } }] },
      { content: 'I may not read that.' },
    ])
    const { ctx, events } = fakeContext({
      execute: async () => ({ status: 'denied', content: 'denied: /etc/shadow is outside the workspace' }),
    })
    const outcome = await backend.run(task(), ctx)
    expect(outcome.status).toBe('completed')
    expect(events.find((e) => e.kind === 'tool.finished')).toMatchObject({
      status: 'denied',
      summary: 'denied: /etc/shadow is outside the workspace',
    })
    expect(double.chatRequests[1]?.messages.at(-1)).toEqual({
      role: 'tool',
      tool_call_id: 'c1',
      content: 'denied: /etc/shadow is outside the workspace',
    })
  })

  it('answers arguments that are not JSON to the model, without running the tool, and goes on', async () => {
    const { backend, double } = await setup([
      { toolCalls: [{ id: 'bad', name: 'file_read', arguments: '{"path": "README.md"' }] },
      { toolCalls: [{ id: 'good', name: 'file_read', arguments: '{"path": "README.md"}' }] },
      { content: 'done' },
    ])
    const { ctx, calls, events } = fakeContext()
    const outcome = await backend.run(task(), ctx)
    expect(outcome.status).toBe('completed')
    expect(calls.map((c) => c.args)).toEqual([{ path: 'README.md' }])
    const told = double.chatRequests[1]?.messages.at(-1)
    expect(told).toMatchObject({ role: 'tool', tool_call_id: 'bad' })
    expect(told?.content).toMatch(
      /^error: the arguments of file_read are not valid JSON \(.+\); call it again/,
    )
    expect(events.filter((e) => e.kind === 'tool.finished').map((e) => [e.callId, e.status])).toEqual([
      ['bad', 'failure'],
      ['good', 'success'],
    ])
  })

  it('answers a tool that was not offered to the model, listing the ones that are, without running it', async () => {
    const { backend, double } = await setup([
      {
        toolCalls: [
          { id: 'u1', name: 'service_control', arguments: { unit: 'sshd', action: 'stop' } },
          { id: 'u2', name: 'file_read', arguments: { path: 'a' } },
        ],
      },
      { content: 'ok' },
    ])
    const { ctx, calls } = fakeContext()
    const outcome = await backend.run(task(), ctx)
    expect(outcome.status).toBe('completed')
    expect(calls.map((c) => c.name)).toEqual(['file_read'])
    expect(double.chatRequests[1]?.messages.slice(-2)).toEqual([
      {
        role: 'tool',
        tool_call_id: 'u1',
        content: 'error: there is no tool named service_control; the tools are: file_read, file_list',
      },
      { role: 'tool', tool_call_id: 'u2', content: 'file_read ran with {"path":"a"}' },
    ])
  })

  it('tolerates missing usage (zeros) and empty arguments (no arguments)', async () => {
    const { backend, double } = await setup([
      { toolCalls: [{ id: 'e', name: 'file_list', arguments: '' }], usage: null },
      { content: 'fine', usage: null },
    ])
    const { ctx, calls } = fakeContext()
    const outcome = await backend.run(task(), ctx)
    expect(outcome).toMatchObject({
      status: 'completed',
      usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
    })
    expect(calls[0]?.args).toEqual({})
    expect(double.chatRequests).toHaveLength(2)
  })

  it('names a tool call the server left without an id, so its result still threads back', async () => {
    const { backend, double } = await setup([
      { toolCalls: [{ id: '', name: 'file_read', arguments: { path: 'a' } }] },
      { content: 'ok' },
    ])
    const outcome = await backend.run(task(), fakeContext().ctx)
    expect(outcome.status).toBe('completed')
    const thread = double.chatRequests[1]?.messages.slice(2)
    expect(thread?.[0]).toMatchObject({ role: 'assistant', tool_calls: [{ id: 'call_1_0' }] })
    expect(thread?.[1]).toMatchObject({ role: 'tool', tool_call_id: 'call_1_0' })
  })

  it('uses the task’s model over the configured one', async () => {
    const { backend, double } = await setup([{ content: 'hi' }])
    const outcome = await backend.run(task({}, { model: 'qwen2.5-coder:7b' }), fakeContext().ctx)
    expect(double.chatRequests[0]?.model).toBe('qwen2.5-coder:7b')
    expect(outcome.model).toBe('qwen2.5-coder:7b')
  })
})

describe('openai backend: limits', () => {
  const forever: Script = (_req, i) => ({ toolCalls: [{ name: 'file_read', arguments: { path: `f${i}` } }] })

  it('maxTurns: stops after that many model requests, without running the last turn’s calls', async () => {
    const { backend, double } = await setup(forever)
    const { ctx, calls } = fakeContext()
    const outcome = await backend.run(task({ maxTurns: 3 }), ctx)
    expect(outcome.status).toBe('limit')
    expect(outcome.error).toMatch(/turn limit \(maxTurns 3\)/)
    expect(outcome.turns).toBe(3)
    expect(double.chatRequests).toHaveLength(3)
    expect(calls).toHaveLength(2)
  })

  it('maxTokens: stops once the reported total passes the budget', async () => {
    const { backend, double } = await setup((_req, i) => ({
      toolCalls: [{ name: 'file_read', arguments: { path: `f${i}` } }],
      usage: { prompt_tokens: 500, completion_tokens: 100 },
    }))
    const { ctx, calls, events } = fakeContext()
    const outcome = await backend.run(task({ maxTokens: 1000 }), ctx)
    expect(outcome.status).toBe('limit')
    expect(outcome.error).toMatch(/token limit \(maxTokens 1000; 1200 used\)/)
    expect(outcome.usage.totalTokens).toBe(1200)
    expect(double.chatRequests).toHaveLength(2)
    expect(calls).toHaveLength(1)
    expect(events.filter((e) => e.kind === 'usage').at(-1)).toMatchObject({ usage: { totalTokens: 1200 } })
  })

  it('wallMs: a clock past the deadline stops the loop before its next request', async () => {
    let t = 1_000_000
    const { backend, double } = await setup(forever, { now: () => t })
    const { ctx } = fakeContext({
      execute: async () => {
        t += 40_000
        return { status: 'success', content: 'slow tool' }
      },
    })
    const outcome = await backend.run(task({ wallMs: 60_000 }), ctx)
    expect(outcome.status).toBe('limit')
    expect(outcome.error).toMatch(/wall-time limit \(wallMs 60000\)/)
    expect(double.chatRequests).toHaveLength(2)
  })

  it('wallMs: a tool still running at the deadline is aborted', async () => {
    const { backend } = await setup(forever)
    let toolSignal: AbortSignal | undefined
    const { ctx } = fakeContext({
      execute: (_n, _a, signal) => {
        toolSignal = signal
        return new Promise((resolve) =>
          signal.addEventListener('abort', () => resolve({ status: 'cancelled', content: 'stopped' })),
        )
      },
    })
    const t0 = Date.now()
    const outcome = await backend.run(task({ wallMs: 300 }), ctx)
    expect(outcome.status).toBe('limit')
    expect(outcome.error).toMatch(/wallMs 300/)
    expect(toolSignal?.aborted).toBe(true)
    expect(Date.now() - t0).toBeLessThan(5000)
  })

  it('wallMs: a model request still running at the deadline is abandoned', async () => {
    const { backend, double } = await setup([{ content: 'too late' }])
    double.faults.add({ delayMs: 3000 })
    const t0 = Date.now()
    const outcome = await backend.run(task({ wallMs: 300 }), fakeContext().ctx)
    expect(outcome.status).toBe('limit')
    expect(outcome.error).toMatch(/wallMs 300/)
    expect(Date.now() - t0).toBeLessThan(2000)
  })
})

describe('openai backend: retries and failures', () => {
  it('429 with Retry-After: waits as asked, then succeeds', async () => {
    const { backend, double, sleeps } = await setup([{ content: 'after the wait' }])
    double.faults.add({ status: 429, retryAfter: 2 })
    const outcome = await backend.run(task(), fakeContext().ctx)
    expect(outcome).toMatchObject({ status: 'completed', answer: 'after the wait', turns: 1 })
    expect(sleeps).toEqual([2000])
    expect(double.requests.map((r) => r.status)).toEqual([429, 200])
  })

  it('5xx, a dropped connection and a request timeout are retried with a capped exponential backoff', async () => {
    const { backend, double, sleeps } = await setup([{ content: 'made it' }], {
      requestTimeoutMs: 300,
      retry: { attempts: 5, baseDelayMs: 100, maxDelayMs: 250 },
    })
    double.faults.add({ status: 503 })
    double.faults.add({ network: true })
    double.faults.add({ delayMs: 1000 })
    const outcome = await backend.run(task(), fakeContext().ctx)
    expect(outcome.status).toBe('completed')
    expect(sleeps).toEqual([100, 200, 250])
  })

  it('gives up after the configured attempts, saying why', async () => {
    const { backend, double, sleeps } = await setup([{ content: 'never' }], {
      retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 100 },
    })
    double.faults.add({ status: 500, count: 10, message: 'The engine is overloaded.' })
    const outcome = await backend.run(task(), fakeContext().ctx)
    expect(outcome.status).toBe('failed')
    expect(outcome.error).toBe(
      'the model endpoint answered 500: The engine is overloaded. (after 3 attempts)',
    )
    expect(sleeps).toHaveLength(2)
    expect(double.requests).toHaveLength(3)
  })

  it('does not wait past the wall-time limit for a Retry-After', async () => {
    const { backend, double, sleeps } = await setup([{ content: 'never' }])
    double.faults.add({ status: 429, retryAfter: 3600 })
    const outcome = await backend.run(task({ wallMs: 60_000 }), fakeContext().ctx)
    expect(outcome.status).toBe('failed')
    expect(outcome.error).toMatch(
      /answered 429: Rate limit reached.*waiting 3600 s to retry would pass the run's wall-time limit/,
    )
    expect(sleeps).toEqual([])
  })

  it('a 400 is not retried; the server’s reason is shown', async () => {
    const { backend, double } = await setup([{ content: 'never' }])
    double.faults.add({ status: 400, message: "Invalid value for 'tools': too many" })
    const outcome = await backend.run(task(), fakeContext().ctx)
    expect(outcome).toMatchObject({
      status: 'failed',
      error: "the model endpoint answered 400: Invalid value for 'tools': too many",
    })
    expect(double.requests).toHaveLength(1)
  })

  it.each([
    ['json', /body that is not JSON/],
    ['shape', /body that is not a chat completion: .*choices/s],
  ] as const)(
    'a malformed body (%s) fails the run with a clear reason, no crash',
    async (malformed, reason) => {
      const { backend, double } = await setup([{ content: 'never' }])
      double.faults.add({ malformed })
      const outcome = await backend.run(task(), fakeContext().ctx)
      expect(outcome.status).toBe('failed')
      expect(outcome.error).toMatch(reason)
    },
  )

  it('an unreachable endpoint fails after its retries, naming the endpoint', async () => {
    const { backend } = await setup([])
    await running?.close()
    running = undefined
    const outcome = await backend.run(task(), fakeContext().ctx)
    expect(outcome.status).toBe('failed')
    expect(outcome.error).toMatch(
      /^cannot reach the model endpoint http:\/\/127\.0\.0\.1:\d+\/v1 \(ECONNREFUSED\) \(after 4 attempts\)$/,
    )
  })
})

describe('openai backend: cancel', () => {
  it('cancel mid tool call: the call’s signal aborts, the run ends cancelled, no further request', async () => {
    const { backend, double } = await setup([
      { toolCalls: [{ id: 'slow', name: 'file_read', arguments: { path: 'big' } }] },
      { content: 'never asked' },
    ])
    const controller = new AbortController()
    let toolSignal: AbortSignal | undefined
    const { ctx, events } = fakeContext({
      signal: controller.signal,
      execute: (_n, _a, signal) => {
        toolSignal = signal
        setTimeout(() => controller.abort(), 50)
        return new Promise((resolve) =>
          signal.addEventListener('abort', () => resolve({ status: 'cancelled', content: 'cancelled' })),
        )
      },
    })
    const outcome = await backend.run(task(), ctx)
    expect(outcome).toMatchObject({ status: 'cancelled', error: 'the run was cancelled', turns: 1 })
    expect(toolSignal?.aborted).toBe(true)
    expect(double.chatRequests).toHaveLength(1)
    expect(events.at(-1)).toMatchObject({ kind: 'tool.finished', callId: 'slow', status: 'cancelled' })
  })

  it('cancel during a model request aborts it at once', async () => {
    const { backend, double } = await setup([{ content: 'slow answer' }])
    double.faults.add({ delayMs: 5000 })
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 100)
    const t0 = Date.now()
    const outcome = await backend.run(task(), fakeContext({ signal: controller.signal }).ctx)
    expect(outcome.status).toBe('cancelled')
    expect(Date.now() - t0).toBeLessThan(2000)
  })

  it('cancel during a retry wait', async () => {
    running = await startModelDouble({ script: [{ content: 'never' }] })
    running.double.faults.add({ status: 429, retryAfter: 20 })
    const backend = new OpenAIBackend({ baseUrl: `${running.url}/v1`, model: 'm' })
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 150)
    const outcome = await backend.run(task(), fakeContext({ signal: controller.signal }).ctx)
    expect(outcome.status).toBe('cancelled')
    expect(running.double.requests).toHaveLength(1)
  })
})

describe('openai backend: the API key stays secret', () => {
  it('never appears in events, outcome or errors, even when the model or the server echoes it', async () => {
    const { backend, double } = await setup([
      { toolCalls: [{ id: 'k', name: 'file_read', arguments: { path: KEY } }], content: `my key is ${KEY}` },
      { content: 'never' },
    ])
    const { ctx, events } = fakeContext({
      execute: async () => {
        // After the first turn the server starts echoing the key in its errors.
        double.faults.add({ status: 500, count: 2, message: `upstream refused Bearer ${KEY}` })
        double.faults.add({ status: 403, message: `key ${KEY} may not use this model` })
        return { status: 'failure', content: `error: bad path ${KEY}` }
      },
    })
    const outcome = await backend.run(task(), ctx)
    expect(outcome.status).toBe('failed')
    expect(outcome.error).toBe(
      'the model endpoint answered 403: key [redacted] may not use this model (check the API key the house names; the key itself is never shown)',
    )
    expect(outcome.answer).toBe('my key is [redacted]')
    expect(events.find((e) => e.kind === 'tool.started')).toMatchObject({ args: '{"path":"[redacted]"}' })
    expect(events.find((e) => e.kind === 'tool.finished')).toMatchObject({
      summary: 'error: bad path [redacted]',
    })
    expect(JSON.stringify({ events, outcome })).not.toContain(KEY)
    expect(double.requests.map((r) => r.status)).toEqual([200, 500, 500, 403])
  })

  it('a wrong key: 401 fails the run with a hint, not the key', async () => {
    running = await startModelDouble({ apiKey: 'sk-the-right-one', script: [{ content: 'never' }] })
    const backend = new OpenAIBackend({ baseUrl: `${running.url}/v1`, apiKey: KEY, model: 'm' })
    const { ctx, events } = fakeContext()
    const outcome = await backend.run(task(), ctx)
    expect(outcome.status).toBe('failed')
    expect(outcome.error).toMatch(
      /answered 401: Incorrect API key provided\. \(check the API key the house names/,
    )
    expect(JSON.stringify({ outcome, events })).not.toContain(KEY)
  })
})

describe('openai backend: health', () => {
  it('asks GET /v1/models with the key', async () => {
    const { backend } = await setup([])
    expect(await backend.health()).toEqual({ ok: true, detail: 'model double-model listed' })
    const other = new OpenAIBackend({ baseUrl: `${running?.url}/v1`, apiKey: KEY, model: 'llama3' })
    expect(await other.health()).toEqual({
      ok: true,
      detail: 'the endpoint answers but does not list model llama3',
    })
  })

  it('is not ok on a wrong key or an unreachable endpoint, and says why without the key', async () => {
    running = await startModelDouble({ apiKey: 'sk-the-right-one' })
    const wrong = await new OpenAIBackend({ baseUrl: `${running.url}/v1`, apiKey: KEY, model: 'm' }).health()
    expect(wrong.ok).toBe(false)
    expect(wrong.detail).toMatch(/answered 401/)
    expect(JSON.stringify(wrong)).not.toContain(KEY)
    const url = running.url
    await running.close()
    running = undefined
    const away = await new OpenAIBackend({ baseUrl: `${url}/v1`, apiKey: KEY, model: 'm' }).health()
    expect(away).toEqual({
      ok: false,
      detail: expect.stringMatching(/cannot reach the model endpoint .*ECONNREFUSED/),
    })
  })

  it('refuses a baseUrl that is not http(s)', () => {
    expect(() => new OpenAIBackend({ baseUrl: 'file:///etc/v1', model: 'm' })).toThrow(/must be http\(s\)/)
  })
})

describe('openai backend: what the model is offered', () => {
  it('sends no tools field when the context offers none', async () => {
    const { backend, double } = await setup([{ content: 'plain answer' }])
    await backend.run(task(), fakeContext({ tools: [] }).ctx)
    expect(double.chatRequests[0]?.tools).toBeUndefined()
  })

  it('offers exactly the context’s tools, with their JSON Schema as parameters', async () => {
    const { backend, double } = await setup([{ content: 'plain answer' }])
    await backend.run(task(), fakeContext({ tools: [offer('git_status')] }).ctx)
    expect(double.chatRequests[0]?.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'git_status',
          description: 'the git_status tool',
          parameters: offer('git_status').parameters,
        },
      },
    ])
  })
})
