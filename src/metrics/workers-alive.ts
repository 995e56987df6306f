import { Gauge, type Registry } from 'prom-client'

/** Where the workers-alive gauge reads from: the configured houses and their live heartbeats. */
export interface WorkersAliveSource {
  /** Every configured house, so a house with no worker at all shows as 0 (not as a missing series). */
  houses: readonly string[]
  /** Workers of the house with a live heartbeat (workers/heartbeat `liveness`), read at scrape time. */
  workersAlive(house: string): Promise<number>
}

/**
 * Registers `uw_house_workers_alive{house}`: live workers per configured house, read from the
 * heartbeats in Redis when Prometheus scrapes (the same data `/houses` shows). A house whose
 * heartbeats cannot be read (Redis away) has no sample in that scrape rather than a false 0:
 * `UwRedisDown` covers that case, and `UwHouseNoLiveWorker` must not page for a dead house when
 * only Redis is gone.
 *
 * @example
 *   registerWorkersAlive(registry, { houses: ['timmy'], workersAlive: async (h) =>
 *     (await liveness(redis, prefix, h)).workers })
 */
export function registerWorkersAlive(registry: Registry, source: WorkersAliveSource): Gauge<'house'> {
  return new Gauge({
    name: 'uw_house_workers_alive',
    help: 'Workers of each configured house with a live heartbeat in Redis, read at scrape time.',
    labelNames: ['house'] as const,
    registers: [registry],
    async collect() {
      const counts = await Promise.allSettled(source.houses.map((h) => source.workersAlive(h)))
      this.reset()
      counts.forEach((c, i) => {
        if (c.status === 'fulfilled') this.set({ house: source.houses[i] as string }, c.value)
      })
    },
  })
}
