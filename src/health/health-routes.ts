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
}

/**
 * Adds `GET /health` (liveness: the process answers), `GET /ready` (every dependency answers;
 * 503 with each failing one's reason otherwise), `GET /health/details` (each dependency's latency,
 * last error and last success, and the instance) and `GET /metrics` to an app. The ingress and a
 * worker-only process's health port serve the same routes.
 *
 * @example
 *   healthRoutes(app, { checks, registry })
 */
export function healthRoutes(app: Hono, deps: HealthRoutesDeps): Hono {
  app.get('/health', (c) => c.json({ status: 'ok' }))

  app.get('/ready', async (c) => {
    const states = await deps.checks.run()
    const ready = states.every((s) => s.ok)
    const checks = Object.fromEntries(states.map((s) => [s.name, s.ok ? 'ok' : (s.lastError ?? 'failed')]))
    return c.json({ ready, checks }, ready ? 200 : 503)
  })

  app.get('/health/details', async (c) => {
    const states = await deps.checks.run()
    const ready = states.every((s) => s.ok)
    return c.json({
      status: ready ? 'ok' : 'degraded',
      ready,
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
