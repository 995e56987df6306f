import { Gauge, type Registry } from 'prom-client'
import type { StressMonitor } from './stress-monitor.js'

/**
 * Registers the stress gauges on `registry`, read from `monitor` at each scrape:
 * `uw_worker_degraded{house,signal}` (1 while the signal makes the house's INTELLIGENT jobs run
 * as SIMPLE) and `uw_worker_stress_ms{house,signal}` (the signal's latest value, to tune bounds).
 *
 * @example
 *   registerStressMetrics(registry, stress)
 *   // uw_worker_degraded{house="ezra",signal="event_loop"} 0
 */
export function registerStressMetrics(registry: Registry, monitor: StressMonitor): void {
  const labelNames = ['house', 'signal'] as const
  new Gauge({
    name: 'uw_worker_degraded',
    help: "1 while a stress signal makes the house worker's INTELLIGENT jobs run as SIMPLE (docs/OPERATIONS.md).",
    labelNames,
    registers: [registry],
    collect() {
      this.reset()
      for (const house of monitor.houses())
        for (const r of monitor.readings(house)) this.set({ house, signal: r.signal }, r.on ? 1 : 0)
    },
  })
  new Gauge({
    name: 'uw_worker_stress_ms',
    help: 'Latest value of each stress signal of a house worker, in milliseconds (bounds: daemon.workers.stress).',
    labelNames,
    registers: [registry],
    collect() {
      this.reset()
      for (const house of monitor.houses())
        for (const r of monitor.readings(house)) this.set({ house, signal: r.signal }, r.valueMs)
    },
  })
}
