import { describe, expect, it } from 'vitest'
import { RESTART_ERROR, type HermesScriptStep } from '../../../src/agents/hermes/double/index.js'
import { PLANTED_KEY, withDouble } from './hermes-helpers.js'

const auth = { Authorization: `Bearer ${PLANTED_KEY}` }
const json = { ...auth, 'Content-Type': 'application/json' }
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const slow = (): HermesScriptStep[] => [
  { kind: 'delta', text: 'a' },
  { kind: 'sleep', ms: 400 },
  { kind: 'complete', output: 'done' },
]

async function post(url: string, body: unknown, headers: Record<string, string> = json) {
  const response = await fetch(`${url}/v1/runs`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  }
}

describe('Hermes double follows the contract', () => {
  it('401 with the exact body on every authenticated route; /health needs no key', async () => {
    await withDouble({}, async ({ url }) => {
      const body = {
        error: {
          message: 'Invalid gateway API key (API_SERVER_KEY)',
          type: 'gateway_auth_error',
          code: 'gateway_auth_failed',
        },
      }
      for (const [method, path] of [
        ['POST', '/v1/runs'],
        ['GET', '/v1/runs/run_x'],
        ['GET', '/health/detailed'],
        ['POST', '/v1/runs/run_x/stop'],
      ] as const) {
        const response = await fetch(`${url}${path}`, {
          method,
          headers: { Authorization: `bearer ${PLANTED_KEY}` },
        })
        expect(response.status, path).toBe(401)
        expect(await response.json()).toEqual(body)
      }
      const health = await fetch(`${url}/health`)
      expect(await health.json()).toMatchObject({ status: 'ok', platform: 'hermes-agent' })
      expect(health.headers.get('x-frame-options')).toBe('DENY')
    })
  })

  it.each([
    [
      'auth before drain',
      { draining: true },
      '{}',
      { Authorization: 'Bearer nope' },
      401,
      'gateway_auth_failed',
    ],
    ['drain before JSON', { draining: true }, '{nope', json, 503, 'gateway_draining'],
    ['JSON before the key format', {}, '{nope', { ...json, 'Idempotency-Key': 'has space' }, 400, null],
    [
      'the key format before input',
      {},
      '{}',
      { ...json, 'Idempotency-Key': 'has space' },
      400,
      'invalid_idempotency_key',
    ],
    ['input missing', {}, '{"instructions":"x"}', json, 400, null],
    ['history not an array', {}, '{"input":"x","conversation_history":"no"}', json, 400, null],
  ])('validation order: %s', async (_name, faults, body, headers, status, code) => {
    await withDouble({}, async ({ url, double }) => {
      double.faults.draining = (faults as { draining?: boolean }).draining ?? false
      const answer = await post(url, body, headers as Record<string, string>)
      expect(answer.status).toBe(status)
      expect((answer.body.error as { code?: unknown }).code ?? null).toBe(code)
      if (status === 503) expect(answer.headers.get('retry-after')).toBe('1')
      expect(double.startedRuns()).toHaveLength(0)
    })
  })

  it('admits with 202 started; the status is queued or running (never started) and the session is the run id', async () => {
    await withDouble({ script: slow }, async ({ url }) => {
      const answer = await post(url, { input: [{ role: 'user', content: 'hello' }] })
      expect(answer.status).toBe(202)
      expect(answer.body).toEqual({
        run_id: expect.stringMatching(/^run_[0-9a-f]{32}$/),
        status: 'started',
        replayed: false,
      })
      const status = (await (
        await fetch(`${url}/v1/runs/${answer.body.run_id}`, { headers: auth })
      ).json()) as Record<string, unknown>
      expect(['queued', 'running']).toContain(status.status)
      expect(status).toMatchObject({
        object: 'hermes.run',
        session_id: answer.body.run_id,
        model: 'hermes-agent',
      })
    })
  })

  it('idempotency: replay (header, current status), conflict 409, and a replay passes the cap that refuses a new run', async () => {
    await withDouble({ script: slow, maxConcurrentRuns: 1 }, async ({ url, double }) => {
      const headers = { ...json, 'Idempotency-Key': 'job-1' }
      const first = await post(url, { input: 'q' }, headers)
      await sleep(30)
      const replay = await post(url, { input: 'q' }, headers)
      expect(replay.status).toBe(202)
      expect(replay.headers.get('idempotency-replayed')).toBe('true')
      expect(replay.body).toEqual({ run_id: first.body.run_id, status: 'running', replayed: true })
      const conflict = await post(url, { input: 'other' }, headers)
      expect(conflict.status).toBe(409)
      expect(conflict.body.error).toMatchObject({ code: 'idempotency_key_conflict' })
      const capped = await post(url, { input: 'q' }, { ...json, 'Idempotency-Key': 'job-2' })
      expect(capped.status).toBe(429)
      expect(capped.headers.get('retry-after')).toBe('1')
      expect(capped.body).toEqual({
        error: {
          message: 'Too many concurrent runs (max 1)',
          type: 'rate_limit_error',
          param: null,
          code: 'rate_limit_exceeded',
        },
      })
      expect(double.startedRuns()).toEqual([first.body.run_id])
      expect(double.idempotencyKeys()).toEqual(['job-1', 'job-1', 'job-1', 'job-2'])
    })
  })

  it('legacy: a disconnect drops the transport; resubscribing is a 404 while the run goes on', async () => {
    await withDouble({ script: slow }, async ({ url, double }) => {
      const { body } = await post(url, { input: 'q' })
      const events = await fetch(`${url}/v1/runs/${body.run_id}/events`, { headers: auth })
      const reader = events.body!.getReader()
      const first = new TextDecoder().decode((await reader.read()).value)
      expect(first).toMatch(
        /^data: \{"event":"message.delta","run_id":"run_[0-9a-f]+","timestamp":[0-9.]+,"delta":"a"\}\n\n$/,
      )
      await reader.cancel()
      await sleep(30)
      const again = await fetch(`${url}/v1/runs/${body.run_id}/events`, { headers: auth })
      expect(again.status).toBe(404)
      expect(await again.json()).toMatchObject({ error: { code: 'run_not_found' } })
      const status = (await (await fetch(`${url}/v1/runs/${body.run_id}`, { headers: auth })).json()) as {
        status: string
      }
      expect(status.status).toBe('running')
      await sleep(450)
      expect(double.eventsOf(String(body.run_id)).map((e) => e.event)).toEqual([
        'message.delta',
        'run.completed',
      ])
    })
  })

  it('replay: id lines, Last-Event-ID resumes after the cursor, an invalid one means from the start', async () => {
    const script = (): HermesScriptStep[] => [
      { kind: 'delta', text: 'a' },
      { kind: 'delta', text: 'b' },
      { kind: 'complete', output: 'ab' },
    ]
    await withDouble({ script, framing: 'replay' }, async ({ url }) => {
      const { body } = await post(url, { input: 'q' })
      await sleep(30)
      const read = async (lastEventId?: string) => {
        const headers = lastEventId === undefined ? auth : { ...auth, 'Last-Event-ID': lastEventId }
        return (await fetch(`${url}/v1/runs/${body.run_id}/events`, { headers })).text()
      }
      const all = await read()
      expect(all.match(/^id: \d+$/gm)).toEqual(['id: 1', 'id: 2', 'id: 3'])
      expect(all.endsWith(': stream closed\n\n')).toBe(true)
      expect((await read('2')).match(/^id: \d+$/gm)).toEqual(['id: 3'])
      expect((await read('02')).match(/^id: \d+$/gm)).toEqual(['id: 1', 'id: 2', 'id: 3'])
    })
  })

  it('approval: choice validation, aliases, not pending, not active', async () => {
    const script = (): HermesScriptStep[] => [
      { kind: 'approval', command: 'rm -rf build', allowPermanent: false },
      { kind: 'sleep', ms: 150 },
    ]
    await withDouble({ script }, async ({ url }) => {
      const { body } = await post(url, { input: 'q' })
      const approve = (payload: unknown) =>
        fetch(`${url}/v1/runs/${body.run_id}/approval`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify(payload),
        })
      await sleep(30)
      const status = (await (
        await fetch(`${url}/v1/runs/${body.run_id}`, { headers: auth })
      ).json()) as Record<string, unknown>
      expect(status.status).toBe('waiting_for_approval')
      expect(status.approval).toMatchObject({
        event: 'approval.request',
        command: 'rm -rf build',
        choices: ['once', 'session', 'deny'],
      })
      const bad = await approve({ choice: 'maybe' })
      expect(bad.status).toBe(400)
      expect(await bad.json()).toMatchObject({ error: { code: 'invalid_approval_choice' } })
      const ok = await approve({ choice: 'Approve' })
      expect(await ok.json()).toMatchObject({
        object: 'hermes.run.approval_response',
        choice: 'once',
        resolved: 1,
      })
      const twice = await approve({ choice: 'deny' })
      expect(twice.status).toBe(409)
      expect(await twice.json()).toMatchObject({ error: { code: 'approval_not_pending' } })
      await sleep(200)
      const late = await approve({ choice: 'deny' })
      expect(late.status).toBe(409)
      expect(await late.json()).toMatchObject({ error: { code: 'approval_not_active' } })
    })
  })

  it('stop: stopping, then cancelled with run.cancelled; a stop ignored by the agent may still complete', async () => {
    await withDouble({ script: slow }, async ({ url, double }) => {
      const { body } = await post(url, { input: 'q' })
      await sleep(30)
      const stop = await fetch(`${url}/v1/runs/${body.run_id}/stop`, { method: 'POST', headers: auth })
      expect(await stop.json()).toEqual({ run_id: body.run_id, status: 'stopping' })
      await sleep(30)
      expect(double.run(String(body.run_id))?.status).toMatchObject({
        status: 'cancelled',
        last_event: 'run.cancelled',
      })
      const again = await fetch(`${url}/v1/runs/${body.run_id}/stop`, { method: 'POST', headers: auth })
      expect(await again.json()).toMatchObject({ object: 'hermes.run', status: 'cancelled' })

      double.faults.stopIgnored = true
      const next = await post(url, { input: 'r' })
      await sleep(30)
      await fetch(`${url}/v1/runs/${next.body.run_id}/stop`, { method: 'POST', headers: auth })
      expect(double.run(String(next.body.run_id))?.state).toBe('stopping')
      await sleep(450)
      expect(double.run(String(next.body.run_id))?.state).toBe('completed')
    })
  })

  it('restart: runs without a key vanish (404), keyed ones read back interrupted', async () => {
    await withDouble({ script: slow }, async ({ url, double }) => {
      const plain = await post(url, { input: 'q' })
      const keyed = await post(url, { input: 'q' }, { ...json, 'Idempotency-Key': 'job-9' })
      await sleep(30)
      double.restart()
      expect((await fetch(`${url}/v1/runs/${plain.body.run_id}`, { headers: auth })).status).toBe(404)
      const status = (await (
        await fetch(`${url}/v1/runs/${keyed.body.run_id}`, { headers: auth })
      ).json()) as Record<string, unknown>
      expect(status).toMatchObject({
        status: 'interrupted',
        error: RESTART_ERROR,
        last_event: 'run.interrupted',
      })
      const replay = await post(url, { input: 'q' }, { ...json, 'Idempotency-Key': 'job-9' })
      expect(replay.body).toEqual({ run_id: keyed.body.run_id, status: 'interrupted', replayed: true })
    })
  })
})
