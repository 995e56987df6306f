import { timingSafeEqual } from 'node:crypto'
import { Hono, type Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { DoubleRun } from './double-run.js'
import { HermesDouble } from './hermes-double.js'

type C = Context

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
  'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'X-XSS-Protection': '0',
  'Referrer-Policy': 'no-referrer',
}

/** The standard envelope (CONTRACT §10). */
function openaiError(
  c: C,
  status: ContentfulStatusCode,
  message: string,
  code: string | null = null,
  type = 'invalid_request_error',
  headers: Record<string, string> = {},
) {
  return c.json({ error: { message, type, param: null, code } }, status, headers)
}

const AUTH_FAILED = {
  error: {
    message: 'Invalid gateway API key (API_SERVER_KEY)',
    type: 'gateway_auth_error',
    code: 'gateway_auth_failed',
  },
}

const runNotFound = (c: C, runId: string) => openaiError(c, 404, `Run not found: ${runId}`, 'run_not_found')

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const APPROVAL_CHOICES = ['always', 'deny', 'once', 'session']
const CHOICE_ALIASES: Record<string, string> = { approve: 'once', approved: 'once', allow: 'once' }

/** Builds the double's Hono app: the Hermes API server's run routes with its behaviour and quirks. */
export function createHermesDoubleApp(double: HermesDouble): Hono {
  const app = new Hono()

  const authorized = (c: C): boolean => {
    if (double.apiKey === null) return true
    const header = c.req.header('authorization') ?? ''
    if (!header.startsWith('Bearer ')) return false
    const given = Buffer.from(header.slice('Bearer '.length).trim(), 'utf8')
    const expected = Buffer.from(double.apiKey, 'utf8')
    return given.length === expected.length && timingSafeEqual(given, expected)
  }

  // The request log, canned faults and security headers wrap everything else.
  app.use('*', async (c, next) => {
    const method = c.req.method
    const path = new URL(c.req.url).pathname
    const body = method === 'POST' ? await c.req.raw.clone().text() : undefined
    const fault = double.faults.take(method, path)
    if (fault) {
      c.res = new Response(fault.body ?? '', {
        status: fault.status,
        headers: {
          'Content-Type': 'application/json',
          ...(fault.retryAfter === undefined ? {} : { 'Retry-After': String(fault.retryAfter) }),
        },
      })
    } else {
      await next()
    }
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(k, v)
    const idempotencyKey = c.req.header('idempotency-key')
    const lastEventId = c.req.header('last-event-id')
    double.requests.push({
      method,
      path,
      status: c.res.status,
      authorized: authorized(c),
      ...(idempotencyKey === undefined ? {} : { idempotencyKey: idempotencyKey.trim() }),
      ...(lastEventId === undefined ? {} : { lastEventId }),
      ...(body === undefined ? {} : { body }),
    })
  })

  const health = (c: C) => c.json({ status: 'ok', platform: 'hermes-agent', version: double.version })
  app.get('/health', health)
  app.get('/v1/health', health)

  app.use('*', async (c, next) => {
    if (!authorized(c)) return c.json(AUTH_FAILED, 401)
    await next()
  })

  app.get('/health/detailed', (c) => {
    const active = double.activeRunCount()
    const ok = { status: 'ok' }
    return c.json({
      status: 'ok',
      readiness: {
        status: 'ok',
        checks: {
          state_db: { ...ok, backend: 'memory' },
          config: ok,
          model: ok,
          disk: { ...ok, used_percent: 10, free_bytes: 1e10 },
          gateway: { ...ok, state: 'running', connected_platforms: 1, platforms: ['api_server'] },
          background_queues: {
            ...ok,
            active_api_runs: active,
            process_completions: 0,
            active_delegations: 0,
          },
        },
      },
      platform: 'hermes-agent',
      version: double.version,
      gateway_state: double.faults.draining ? 'draining' : 'running',
      platforms: { api_server: { state: 'connected' } },
      active_agents: active,
      gateway_busy: active > 0,
      gateway_drainable: true,
      exit_reason: null,
      updated_at: new Date(double.now()).toISOString(),
      pid: process.pid,
    })
  })

  app.get('/v1/models', (c) =>
    c.json({
      object: 'list',
      data: [
        {
          id: double.modelName,
          object: 'model',
          created: Math.floor(double.now() / 1000),
          owned_by: 'hermes',
          permission: [],
          root: double.modelName,
          parent: null,
        },
      ],
    }),
  )

  // POST /v1/runs in the validation order of CONTRACT §4.3.
  app.post('/v1/runs', async (c) => {
    if (double.faults.draining) return draining(c)
    const sessionKey = (c.req.header('x-hermes-session-key') ?? '').trim()
    if (sessionKey && /[\r\n\0]/.test(sessionKey)) {
      return c.json({ error: { message: 'Invalid session key', type: 'invalid_request_error' } }, 400)
    }
    if (sessionKey.length > 256) {
      return c.json({ error: { message: 'Session key too long', type: 'invalid_request_error' } }, 400)
    }
    let body: unknown
    try {
      body = JSON.parse(await c.req.text())
    } catch {
      return openaiError(c, 400, 'Invalid JSON')
    }
    const fields = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<
      string,
      unknown
    >
    const rawKey = (c.req.header('idempotency-key') ?? '').trim()
    if (rawKey && !/^[\x21-\x7e]{1,255}$/.test(rawKey)) {
      return openaiError(
        c,
        400,
        'Idempotency-Key must be 1-255 visible ASCII characters',
        'invalid_idempotency_key',
      )
    }
    const input = fields.input
    if (!input) return openaiError(c, 400, "Missing 'input' field")
    let userMessage: string
    if (Array.isArray(input)) {
      const last = input[input.length - 1] as { content?: unknown } | undefined
      if (!last || !last.content) return openaiError(c, 400, 'No user message found in input')
      userMessage = typeof last.content === 'string' ? last.content : JSON.stringify(last.content)
    } else {
      userMessage = String(input)
    }
    const history = fields.conversation_history
    if (history !== undefined) {
      if (!Array.isArray(history)) {
        return openaiError(c, 400, "'conversation_history' must be an array of message objects")
      }
      const bad = history.findIndex((m) => !m || typeof m !== 'object' || !('role' in m) || !('content' in m))
      if (bad !== -1)
        return openaiError(c, 400, `conversation_history[${bad}] must have 'role' and 'content' fields`)
    }
    const fingerprint = HermesDouble.fingerprint(body, sessionKey)
    if (rawKey) {
      const found = double.lookupIdempotent(rawKey, fingerprint)
      if (found.kind === 'conflict') {
        return openaiError(
          c,
          409,
          'Idempotency-Key was already used with a different request payload',
          'idempotency_key_conflict',
        )
      }
      if (found.kind === 'replay') {
        return c.json({ run_id: found.run.runId, status: found.run.state, replayed: true }, 202, {
          'Idempotency-Replayed': 'true',
        })
      }
    }
    const rejection = double.faults.takeStartRejection()
    if (rejection === 503) return draining(c)
    const cap = double.maxConcurrentRuns
    if (rejection === 429 || (cap > 0 && double.activeRunCount() >= cap)) {
      return openaiError(
        c,
        429,
        `Too many concurrent runs (max ${cap})`,
        'rate_limit_exceeded',
        'rate_limit_error',
        {
          'Retry-After': '1',
        },
      )
    }
    const run = double.admit({
      input: userMessage,
      ...(typeof fields.instructions === 'string' ? { instructions: fields.instructions } : {}),
      ...(typeof fields.model === 'string' ? { model: fields.model } : {}),
      ...(typeof fields.session_id === 'string' ? { sessionId: fields.session_id } : {}),
      ...(rawKey ? { idempotencyKey: rawKey, fingerprint } : {}),
    })
    return c.json(
      { run_id: run.runId, status: 'started', replayed: false },
      202,
      sessionKey ? { 'X-Hermes-Session-Key': sessionKey } : {},
    )
  })

  const draining = (c: C) =>
    openaiError(
      c,
      503,
      'Gateway is draining existing work; retry shortly.',
      'gateway_draining',
      'invalid_request_error',
      {
        'Retry-After': '1',
      },
    )

  const withRun = (handler: (c: C, run: DoubleRun) => Response | Promise<Response>) => (c: C) => {
    const runId = c.req.param('runId') ?? ''
    const run = double.run(runId)
    if (!run) return runNotFound(c, runId)
    return handler(c, run)
  }

  app.get(
    '/v1/runs/:runId',
    withRun((c, run) => c.json(run.status)),
  )

  app.get(
    '/v1/runs/:runId/events',
    withRun(async (c, run) => {
      // Upstream polls for the stream's registration (20 × 50 ms) before its 404.
      const deadline = Date.now() + double.streamWaitMs
      while (!double.canSubscribe(run)) {
        if (Date.now() >= deadline) return runNotFound(c, run.runId)
        await sleep(Math.min(50, double.streamWaitMs))
      }
      // Served by @hono/node-server, a drop destroys the socket as a network cut would.
      const socket = (c.env as { incoming?: { socket?: { destroy(): void } } } | undefined)?.incoming?.socket
      const cut = socket ? () => socket.destroy() : undefined
      const body = run.subscribe(c.req.header('last-event-id')?.trim(), double.keepaliveMs, cut)
      return new Response(body, {
        status: 200,
        headers: {
          'Content-Type': 'text/event-stream',
          'Cache-Control': 'no-cache',
          'X-Accel-Buffering': 'no',
        },
      })
    }),
  )

  app.post(
    '/v1/runs/:runId/approval',
    withRun(async (c, run) => {
      let body: Record<string, unknown>
      try {
        const parsed: unknown = JSON.parse((await c.req.text()) || '{}')
        body = (parsed && typeof parsed === 'object' ? parsed : {}) as Record<string, unknown>
      } catch {
        return openaiError(c, 400, 'Invalid JSON')
      }
      const requestId = typeof body.request_id === 'string' ? body.request_id.trim() : undefined
      if (body.request_id !== undefined && (!requestId || requestId.length > 256)) {
        return openaiError(c, 400, 'Invalid approval request id', 'invalid_approval_request')
      }
      const raw = String(body.choice ?? '')
        .trim()
        .toLowerCase()
      const choice = CHOICE_ALIASES[raw] ?? raw
      if (!APPROVAL_CHOICES.includes(choice)) {
        return openaiError(
          c,
          400,
          `Invalid approval choice; expected one of: ${APPROVAL_CHOICES.join(', ')}`,
          'invalid_approval_choice',
        )
      }
      if (run.terminal)
        return openaiError(c, 409, `Run has no active approval session: ${run.runId}`, 'approval_not_active')
      const pending = run.pendingApproval
      if (!pending || (requestId !== undefined && requestId !== pending.requestId)) {
        return openaiError(c, 409, `Run has no pending approval: ${run.runId}`, 'approval_not_pending')
      }
      // `all`/`resolve_all` change nothing here: a scripted run has one pending request at a time.
      run.emit('approval.responded', { choice, ...(requestId ? { request_id: requestId } : {}), resolved: 1 })
      // 005b4b76 forces `running` after an answer, even while stopping (§9 #11).
      run.setStatus('running', {}, 'approval.responded')
      pending.resolve(choice)
      return c.json({
        object: 'hermes.run.approval_response',
        run_id: run.runId,
        choice,
        ...(requestId ? { request_id: requestId } : {}),
        resolved: 1,
      })
    }),
  )

  app.post(
    '/v1/runs/:runId/stop',
    withRun((c, run) => {
      if (run.terminal) return c.json(run.status)
      run.stopRequested = true
      run.setStatus('stopping', {}, 'run.stopping')
      if (!double.faults.stopIgnored) run.abort.abort()
      return c.json({ run_id: run.runId, status: 'stopping' })
    }),
  )

  app.post(
    '/v1/runs/:runId/steer',
    withRun(async (c, run) => {
      if (run.state !== 'running') {
        return openaiError(
          c,
          409,
          `Run is not accepting steer input: ${run.runId}`,
          'run_not_accepting_steer',
        )
      }
      let text = ''
      try {
        const body = JSON.parse(await c.req.text()) as Record<string, unknown>
        const value = body.input ?? body.message ?? body.text
        text = typeof value === 'string' ? value.trim() : ''
      } catch {
        return openaiError(c, 400, 'Invalid JSON in request body')
      }
      if (!text) return openaiError(c, 400, 'Steer input must not be empty', 'invalid_steer_input')
      run.emit('run.steered', { accepted: true })
      return c.json({ object: 'hermes.run.steer', run_id: run.runId, accepted: true })
    }),
  )

  return app
}
