import { Counter, Histogram, type Registry } from 'prom-client'

/** Gitea API call metrics, fed by the metered Gitea port (src/gitea/metered-port). */
export interface GiteaMetrics {
  /** One port call: its route template, outcome code (`2xx`, `404`, `network`...) and duration. */
  observe(route: string, code: string, seconds: number): void
}

// The codes a call can end with are bounded by HTTP; anything unexpected (a non-numeric label
// from a future adapter) is folded into `error`.
const CODE = /^(2xx|network|error|[1-5]\d\d)$/

/**
 * Registers `uw_gitea_requests_total{route,code}` and `uw_gitea_request_duration_seconds{route}`.
 * `route` is the API route template (`POST /repos/{owner}/{repo}/issues/{index}/comments`), never
 * a concrete URL; `code` is `2xx` for success, the HTTP status of a failure, or `network`.
 *
 * @example
 *   const gitea = registerGiteaMetrics(registry)
 *   const port = meteredGitea(adapter, gitea.observe)
 */
export function registerGiteaMetrics(registry: Registry, routes: readonly string[]): GiteaMetrics {
  const known = new Set(routes)
  const calls = new Counter({
    name: 'uw_gitea_requests_total',
    help: 'Gitea API calls by route template and outcome code (2xx, the HTTP status of a failure, network).',
    labelNames: ['route', 'code'] as const,
    registers: [registry],
  })
  const duration = new Histogram({
    name: 'uw_gitea_request_duration_seconds',
    help: 'Gitea API call duration by route template, retries included.',
    labelNames: ['route'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  })
  return {
    observe(route, code, seconds) {
      const r = known.has(route) ? route : 'other'
      calls.inc({ route: r, code: CODE.test(code) ? code : 'error' })
      duration.observe({ route: r }, seconds)
    },
  }
}
