import { Hono } from 'hono'
import type { Config } from '../config/index.js'
import type { DashboardApp } from '../dashboard/dashboard-env.js'
import type { Logger } from '../logger.js'
import type { EventsProducer } from '../queue/events-producer.js'
import type { IngressMetrics } from './ingress-metrics.js'
import { handleWebhook } from './webhook-handler.js'
import { telemetryStream, type TelemetryStreamDeps } from './telemetry-stream.js'
import { alertmanagerReceiver, type AlertReceiverDeps } from './alertmanager-receiver.js'

/** A dependency `/ready` checks: resolves when reachable, throws with the reason when not. */
export type ReadinessCheck = () => Promise<void>

/** Everything the HTTP app uses. Built once at start-up by startServices (or a test). */
export interface AppDeps {
  /** Uses env.WEBHOOK_SECRET (every secret is accepted, for rotation) and file.maxBodyBytes. */
  config: Config
  /** Root logger; each delivery logs through `child({ deliveryId })`. */
  log: Logger
  /** Producer of the durable `events` queue. */
  events: EventsProducer
  /** Anything that answers PING: the producer's Redis connection. */
  redis: { ping(): Promise<unknown> }
  /** The bot's own login; its events are acknowledged and dropped. */
  botLogin: string
  /** Gitea reachability for `/ready`. */
  checkGitea: ReadinessCheck
  metrics: IngressMetrics
  /** `GET /telemetry/stream` (docs/TELEMETRY.md); without it, or without a token, the route answers 404. */
  telemetry?: Omit<TelemetryStreamDeps, 'log'>
  /** `POST /alerts/alertmanager` (config `alerts:`); without it the route answers 404. */
  alerts?: AlertReceiverDeps
  /** The operators' dashboard (src/dashboard), its routes under its own base path; absent when off. */
  dashboard?: DashboardApp
  /** Upper bound on each readiness check. Default 2000 ms. */
  readyTimeoutMs?: number
}

async function within(check: () => Promise<unknown>, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
      }),
    ])
    return 'ok'
  } catch (err) {
    return err instanceof Error ? err.message : String(err)
  } finally {
    clearTimeout(timer)
  }
}

/**
 * The ingress HTTP app: `POST /webhooks/gitea`, `GET /health`, `GET /ready`, `GET /metrics`,
 * `GET /telemetry/stream`, `POST /alerts/alertmanager`.
 * Serve it with `listen(app, ...)` or @hono/node-server.
 *
 * @example
 *   const app = createApp({ config, log, events, redis, botLogin: 'uni-wizard',
 *     checkGitea: async () => {}, metrics: createIngressMetrics() })
 */
export function createApp(deps: AppDeps): Hono {
  const secrets = deps.config.env.WEBHOOK_SECRET
  // Refuse to run without a secret: an unsigned ingress would queue anyone's input.
  if (secrets.length === 0) throw new Error('createApp needs at least one webhook secret')
  const readyTimeoutMs = deps.readyTimeoutMs ?? 2000
  const webhookDeps = {
    secrets,
    maxBodyBytes: deps.config.file.maxBodyBytes,
    botLogin: deps.botLogin,
    events: deps.events,
    log: deps.log,
    metrics: deps.metrics,
  }
  const app = new Hono()

  app.use(async (c, next) => {
    const started = process.hrtime.bigint()
    await next()
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    // routePath is the matched pattern ('/*' for a 404), so the label set stays bounded.
    deps.metrics.requestDuration.observe(
      { route: c.req.routePath, method: c.req.method, status: String(c.res.status) },
      seconds,
    )
  })

  app.post('/webhooks/gitea', (c) => handleWebhook(c, webhookDeps))

  app.get('/health', (c) => c.json({ status: 'ok' }))

  app.get('/ready', async (c) => {
    const [redis, gitea] = await Promise.all([
      within(() => deps.redis.ping(), readyTimeoutMs),
      within(deps.checkGitea, readyTimeoutMs),
    ])
    const ready = redis === 'ok' && gitea === 'ok'
    return c.json({ ready, checks: { redis, gitea } }, ready ? 200 : 503)
  })

  app.get('/metrics', async (c) => {
    const body = await deps.metrics.registry.metrics()
    return c.body(body, 200, { 'content-type': deps.metrics.registry.contentType })
  })

  app.get('/telemetry/stream', telemetryStream(deps.telemetry, deps.log))

  app.post('/alerts/alertmanager', alertmanagerReceiver(deps.alerts, deps.log.child({ route: 'alerts' })))

  if (deps.dashboard) app.route('/', deps.dashboard)

  app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404))
  app.onError((err, c) => {
    deps.log.error({ err, path: c.req.path }, 'unhandled error in request')
    return c.json({ error: 'internal error' }, 500)
  })
  return app
}
