import { Gauge, type Registry } from 'prom-client'

/** The job states a queue's depth is shown for (BullMQ's names, `wait` shown as `waiting`). */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const
export type QueueState = (typeof QUEUE_STATES)[number]

/** One queue's depth at a moment. */
export interface QueueDepth {
  queue: string
  counts: Record<QueueState, number>
  /** Creation time (ms) of the oldest job waiting, when one waits. */
  oldestWaitingAt: number | undefined
}

/** Where the queue gauges read from at scrape time (src/jobs `QueueDepths`, which caches briefly). */
export interface QueueDepthSource {
  depths(): Promise<QueueDepth[]>
}

/**
 * Registers `uw_queue_jobs{queue,state}` (jobs per queue and state) and
 * `uw_queue_oldest_waiting_seconds{queue}` (age of the oldest waiting job, 0 when none waits),
 * both read when Prometheus scrapes. When the depths cannot be read (Redis away) the scrape shows
 * no sample for them rather than stale ones.
 *
 * @example
 *   registerQueueMetrics(registry, depths) // depths: a QueueDepths over the process's connection
 */
export function registerQueueMetrics(
  registry: Registry,
  source: QueueDepthSource,
  now: () => number = Date.now,
): void {
  // Both gauges read the same depths: the source caches them briefly, so a scrape reads Redis once.
  const read = () => source.depths().catch(() => undefined)
  new Gauge({
    name: 'uw_queue_jobs',
    help: 'Jobs in each queue by state (waiting, active, delayed, failed), read at scrape time.',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      const depths = await read()
      this.reset()
      for (const d of depths ?? [])
        for (const state of QUEUE_STATES) this.set({ queue: d.queue, state }, d.counts[state])
    },
  })
  new Gauge({
    name: 'uw_queue_oldest_waiting_seconds',
    help: 'Age of the oldest job waiting in each queue (0 when none waits), read at scrape time.',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      const depths = await read()
      this.reset()
      for (const d of depths ?? [])
        this.set(
          { queue: d.queue },
          d.oldestWaitingAt === undefined ? 0 : Math.max(0, (now() - d.oldestWaitingAt) / 1000),
        )
    },
  })
}
