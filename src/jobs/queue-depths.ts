import { Queue } from 'bullmq'
import type { RedisClient } from '../queue/connection.js'
import { DEFAULT_PREFIX } from '../queue/connection.js'
import type { QueueDepth, QueueDepthSource } from '../metrics/queue-metrics.js'

export interface QueueDepthsOptions {
  connection: RedisClient
  prefix?: string
  /** Queue names: `events`, `reports`, `house-<name>`. */
  queues: readonly string[]
  /** How long one reading is reused. Default 2000 ms: scrapes, and both queue gauges, share it. */
  cacheMs?: number
}

/**
 * Depths of the bot's queues for the metrics: BullMQ's `getJobCounts` and the oldest waiting job
 * of each queue, read in parallel and reused for `cacheMs`, so a scrape (or several Prometheus
 * servers scraping) costs Redis a few commands per queue at most every `cacheMs`.
 *
 * @example
 *   const depths = new QueueDepths({ connection, queues: ['events', 'reports', 'house-ezra'] })
 *   ;(await depths.depths())[0].counts.waiting
 */
export class QueueDepths implements QueueDepthSource {
  private readonly queues: Queue[]
  private reading: { at: number; value: Promise<QueueDepth[]> } | undefined

  constructor(private readonly opts: QueueDepthsOptions) {
    const prefix = opts.prefix ?? DEFAULT_PREFIX
    this.queues = opts.queues.map((name) => new Queue(name, { connection: opts.connection, prefix }))
    // Errors reach the reading's promise; the queue's own 'error' events must not be unhandled.
    for (const q of this.queues) q.on('error', () => undefined)
  }

  depths(now = Date.now()): Promise<QueueDepth[]> {
    const cacheMs = this.opts.cacheMs ?? 2000
    if (this.reading && now - this.reading.at < cacheMs) return this.reading.value
    const value = Promise.all(this.queues.map((q) => readQueue(q)))
    this.reading = { at: now, value }
    // A failed reading is not reused: the next scrape asks Redis again.
    value.catch(() => {
      if (this.reading?.value === value) this.reading = undefined
    })
    return value
  }

  async close(): Promise<void> {
    await Promise.all(this.queues.map((q) => q.close()))
  }
}

async function readQueue(q: Queue): Promise<QueueDepth> {
  const [counts, oldest] = await Promise.all([
    q.getJobCounts('wait', 'active', 'delayed', 'failed'),
    // asc: the wait list's far end, the job that has waited longest.
    q.getJobs(['wait'], 0, 0, true),
  ])
  return {
    queue: q.name,
    counts: {
      waiting: counts.wait ?? 0,
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      failed: counts.failed ?? 0,
    },
    oldestWaitingAt: oldest[0]?.timestamp,
  }
}
