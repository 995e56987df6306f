import { Counter, Histogram, Registry } from 'prom-client'

/** Outcome label of one webhook delivery. */
export type WebhookResult =
  | 'accepted'
  | 'duplicate'
  | 'dropped_self'
  | 'ignored'
  | 'bad_request'
  | 'unauthorized'
  | 'too_large'
  | 'unsupported_media_type'
  | 'unprocessable'
  | 'unavailable'

/** The ingress's Prometheus metrics, registered on a registry the caller owns. */
export interface IngressMetrics {
  registry: Registry
  webhooks: Counter<'event' | 'result'>
  requestDuration: Histogram<'route' | 'method' | 'status'>
}

/**
 * Registers the ingress metrics on `registry` (a fresh one by default, never prom-client's
 * global), so tests and several apps in one process do not share counters.
 *
 * @example
 *   const metrics = createIngressMetrics(new Registry())
 *   const app = createApp({ ..., metrics })
 */
export function createIngressMetrics(registry: Registry = new Registry()): IngressMetrics {
  return {
    registry,
    webhooks: new Counter({
      name: 'uw_webhooks_total',
      help: 'Webhook deliveries by fine-grained event type and outcome.',
      labelNames: ['event', 'result'] as const,
      registers: [registry],
    }),
    requestDuration: new Histogram({
      name: 'uw_http_request_duration_seconds',
      help: 'HTTP request duration by route, method and status.',
      labelNames: ['route', 'method', 'status'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  }
}
