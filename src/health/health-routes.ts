import { Hono } from 'hono'
import type { Registry } from 'prom-client'
import type { HealthChecks } from './health-checks.js'
import type { InstanceInfo } from './instance-registry.js'

/** What the health routes answer from. */
export interface HealthRoutesDeps {
  checks: HealthChecks
  /** The process's metrics, served at `/metrics`; without it the route is not added. */
  registry?: Registry
  /** Who this process is (id, pieces, houses), shown by `/health/details`. */
  instance?: () => InstanceInfo | undefined
  /** True once the process is shutting down (SIGTERM): it finishes running jobs and takes no new work. */
  draining?: () => boolean
}

/** Why a draining process is not ready (the `reason` of its `/ready`). */
export const DRAINING_REASON =
  'draining: this process is shutting down; it finishes its running jobs and takes no new work'

/**
 * Adds `GET /health` (liveness: the process answers), `GET /ready` (every dependency answers;
 * 503 with each failing one's reason otherwise), `GET /health/details` (each dependency's latency,
 * last error and last success, and the instance) and `GET /metrics` to an app. The ingress and a
 * worker-only process's health port serve the same routes. Once `draining`, `/health` still
 * answers 200 but says `draining` (alive: do not kill it), `/ready` answers 503 with the reason
 * without checking anything (send it no work), and `/health/details` says `draining` too.
 *
 * @example
 *   healthRoutes(app, { checks, registry })
 */
export function healthRoutes(app: Hono, deps: HealthRoutesDeps): Hono {
  const draining = deps.draining ?? (() => false)
  app.get('/health', (c) => c.json({ status: draining() ? 'draining' : 'ok' }))

  app.get('/ready', async (c) => {
    if (draining()) return c.json({ ready: false, draining: true, reason: DRAINING_REASON }, 503)
    const states = await deps.checks.run()
    const ready = states.every((s) => s.ok)
    const checks = Object.fromEntries(states.map((s) => [s.name, s.ok ? 'ok' : (s.lastError ?? 'failed')]))
    return c.json({ ready, checks }, ready ? 200 : 503)
  })

  app.get('/health/details', async (c) => {
    const states = await deps.checks.run()
    const drain = draining()
    const ready = !drain && states.every((s) => s.ok)
    return c.json({
      status: drain ? 'draining' : ready ? 'ok' : 'degraded',
      ready,
      ...(drain && { draining: true, reason: DRAINING_REASON }),
      instance: deps.instance?.() ?? null,
      checks: states,
    })
  })

  const registry = deps.registry
  if (registry)
    app.get('/metrics', async (c) =>
      c.body(await registry.metrics(), 200, { 'content-type': registry.contentType }),
    )
  return app
}

/**
 * The HTTP app of a process without the ingress (`uni-wizard worker`, `serve --no-ingress`): the
 * health routes and `/metrics` only, served on `daemon.health` (loopback by default).
 *
 * @example
 *   const http = await listen(createHealthApp({ checks, registry }), { host: '127.0.0.1', port: 9464 })
 */
export function createHealthApp(deps: HealthRoutesDeps): Hono {
  const app = healthRoutes(new Hono(), deps)
  app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404))
  return app
}
