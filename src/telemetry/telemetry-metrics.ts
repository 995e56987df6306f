import { Counter, Gauge, type Registry } from 'prom-client'
import type { RedisClient } from '../queue/connection.js'
import { sinkBacklog } from './sink-backlog.js'
import type { SinkErrorKind } from './sink-client.js'

/** The counters the forwarder of this process increments. */
export interface TelemetryMetrics {
  forwarded: Counter
  sinkErrors: Counter<'kind'>
}

/**
 * Registers the telemetry forwarding metrics (docs/TELEMETRY.md, "Metrics"):
 * `uw_telemetry_buffer_events` and `uw_telemetry_sink_lag_seconds`, gauges read from Redis at
 * each scrape (the same value from every process: the backlog is shared), and this process's
 * `uw_telemetry_events_forwarded_total` and `uw_telemetry_sink_errors_total{kind}` (sum them over
 * instances). Without a sink configured the gauges read 0. When Redis does not answer a scrape,
 * the gauges read NaN rather than a stale number.
 *
 * @example
 *   const metrics = registerTelemetryMetrics(registry, { redis, prefix: '{uw}', sink: true })
 *   forwarder = new TelemetryForwarder({ ..., onForwarded: (n) => metrics.forwarded.inc(n) })
 */
export function registerTelemetryMetrics(
  registry: Registry,
  opts: { redis: RedisClient; prefix: string; sink: boolean },
): TelemetryMetrics {
  // One Redis read per scrape serves both gauges.
  let pending: Promise<{ depth: number; lagSeconds: number }> | undefined
  const read = () =>
    (pending ??= (
      opts.sink
        ? sinkBacklog(opts.redis, opts.prefix).catch(() => ({ depth: Number.NaN, lagSeconds: Number.NaN }))
        : Promise.resolve({ depth: 0, lagSeconds: 0 })
    ).finally(() => setImmediate(() => (pending = undefined))))
  new Gauge({
    name: 'uw_telemetry_buffer_events',
    help: 'Telemetry events in the stream not yet acknowledged by the sink.',
    registers: [registry],
    async collect() {
      this.set((await read()).depth)
    },
  })
  new Gauge({
    name: 'uw_telemetry_sink_lag_seconds',
    help: 'Age of the oldest telemetry event not yet acknowledged by the sink (0 when none).',
    registers: [registry],
    async collect() {
      this.set((await read()).lagSeconds)
    },
  })
  const sinkErrors = new Counter({
    name: 'uw_telemetry_sink_errors_total',
    help: 'Failed POSTs to the telemetry sink by this process, by kind (network, timeout, server, rejected, fenced).',
    labelNames: ['kind'] as const,
    registers: [registry],
  })
  for (const kind of ['network', 'timeout', 'server', 'rejected', 'fenced'] satisfies SinkErrorKind[])
    sinkErrors.inc({ kind }, 0)
  return {
    forwarded: new Counter({
      name: 'uw_telemetry_events_forwarded_total',
      help: 'Telemetry events acknowledged by the sink, sent by this process.',
      registers: [registry],
    }),
    sinkErrors,
  }
}
