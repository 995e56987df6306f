import { Gauge, type Registry } from 'prom-client'

/** Where the stress gauges read from: a worker process's stress monitor (src/stress `StressMonitor`). */
export interface StressSource {
  /** The houses whose workers run in this process. */
  houses(): readonly string[]
  /** Each signal's state for a house, read at scrape time. */
  readings(house: string): readonly { signal: string; on: boolean; valueMs: number }[]
}

/**
 * Registers the stress gauges of the house workers in this process, read from `source` at
 * scrape time: `uw_worker_degraded{house,signal}` (1 while the signal makes the house's
 * INTELLIGENT jobs run as SIMPLE) and `uw_worker_stress_ms{house,signal}` (the signal's latest
 * value, to tune the bounds of `daemon.workers.stress`).
 *
 * @example
 *   registerStressMetrics(registry, loop.stress)
 *   // uw_worker_degraded{house="ezra",signal="event_loop"} 0
 */
export function registerStressMetrics(registry: Registry, source: StressSource): void {
  const labelNames = ['house', 'signal'] as const
  new Gauge({
    name: 'uw_worker_degraded',
    help: "1 while a stress signal makes the house worker's INTELLIGENT jobs run as SIMPLE (docs/OPERATIONS.md).",
    labelNames,
    registers: [registry],
    collect() {
      this.reset()
      for (const house of source.houses())
        for (const r of source.readings(house)) this.set({ house, signal: r.signal }, r.on ? 1 : 0)
    },
  })
  new Gauge({
    name: 'uw_worker_stress_ms',
    help: 'Latest value of each stress signal of a house worker, in milliseconds (bounds: daemon.workers.stress).',
    labelNames,
    registers: [registry],
    collect() {
      this.reset()
      for (const house of source.houses())
        for (const r of source.readings(house)) this.set({ house, signal: r.signal }, r.valueMs)
    },
  })
}
