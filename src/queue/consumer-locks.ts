/**
 * A queue consumer's lock settings: the house workers take `daemon.workers.lockDurationMs` and
 * `stalledIntervalMs` (2 s / 0.5 s: a dead worker's job back within 5 s), the router and the
 * reporter `daemon.router.*` and `daemon.reporter.*` (10 s / 2 s: longer than a Redis failover). A
 * job whose worker died, or whose fetch answer a failover lost (the job moved to active, the worker
 * never told), is back on its queue within about `lockDurationMs + stalledIntervalMs`; with
 * BullMQ's own defaults (30 s and 30 s), which the router and reporter had until session 6, a
 * router event waited up to a minute.
 */
export interface ConsumerLocks {
  lockDurationMs: number
  stalledIntervalMs: number
}

/**
 * Takeovers of a router event or a report before BullMQ fails it as stalled. Their work is keyed
 * effects, safe to do again, and failing one drops a command or leaves its comment stale for ever,
 * so they are taken over far more often than a house job (whose tool may not be safe to run twice:
 * `daemon.workers.maxStalledCount`). Still bounded: an event that kills every router that takes it
 * ends failed, where `uni-wizard health` and the dashboard's queues show it.
 */
export const KEYED_WORK_MAX_STALLED = 20

/**
 * BullMQ worker options from consumer lock settings.
 *
 * @example
 *   new QueueWorker(EVENTS_QUEUE, run, { connection, ...lockOptions(file.daemon.router, KEYED_WORK_MAX_STALLED) })
 */
export function lockOptions(
  locks: ConsumerLocks | undefined,
  maxStalledCount: number,
): { lockDuration?: number; stalledInterval?: number; maxStalledCount: number } {
  return {
    ...(locks ? { lockDuration: locks.lockDurationMs, stalledInterval: locks.stalledIntervalMs } : {}),
    maxStalledCount,
  }
}
