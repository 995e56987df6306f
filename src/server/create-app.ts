import { Hono } from 'hono'
import type { Config } from '../config/index.js'
import type { DashboardApp } from '../dashboard/dashboard-env.js'
import { HealthChecks } from '../health/health-checks.js'
import { healthRoutes } from '../health/health-routes.js'
import type { InstanceInfo } from '../health/instance-registry.js'
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
  /**
   * What `/ready` and `/health/details` check. Default: Redis (`redis.ping`) and Gitea
   * (`checkGitea`); the daemon adds its houses' agent endpoints.
   */
  health?: HealthChecks
  /** This process as registered in Redis, for `/health/details`. */
  instance?: () => InstanceInfo | undefined
  /** True once the process is shutting down: `/ready` answers 503 "draining" (src/health/health-routes.ts). */
  draining?: () => boolean
}

/**
 * The ingress HTTP app: `POST /webhooks/gitea`, `GET /health`, `GET /ready`, `GET /health/details`,
 * `GET /metrics`, `GET /telemetry/stream`, `POST /alerts/alertmanager`.
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
  const health =
    deps.health ??
    new HealthChecks(
      [
        { name: 'redis', check: async () => void (await deps.redis.ping()) },
        { name: 'gitea', check: () => deps.checkGitea() },
      ],
      { timeoutMs: deps.readyTimeoutMs ?? 2000 },
    )
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

  healthRoutes(app, {
    checks: health,
    registry: deps.metrics.registry,
    instance: deps.instance,
    draining: deps.draining,
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
