import { z } from 'zod'

/**
 * `daemon.workers.stress`: when a house worker counts as under stress, so that its INTELLIGENT
 * jobs run as SIMPLE (no prediction read, no outcome written) until the stress has passed
 * (docs/OPERATIONS.md, "Graceful degradation"). SOVEREIGN jobs never degrade.
 *
 * A signal turns on when its value passes its bound, and off only once its value has stayed at or
 * under `bound × recoverRatio` for `recoverAfterMs`: a value hovering around the bound does not
 * make jobs flip between modes.
 *
 * @example
 *   # uw.yaml
 *   daemon:
 *     workers:
 *       stress: { eventLoopLagMs: 500, queueWaitMs: 60000, redisLatencyMs: 100 }
 */
export const StressConfig = z
  .object({
    /** Off: INTELLIGENT jobs degrade only when the pattern store fails. */
    enabled: z.boolean().default(true),
    /** p99 of the event-loop delay over the last window (`monitorEventLoopDelay`), beyond its resolution. */
    eventLoopLagMs: z.number().positive().default(500),
    /** How long the job being started waited in its house queue (enqueued → picked up). */
    queueWaitMs: z.number().positive().default(60_000),
    /** The Redis `PING` round trip, smoothed (an unanswered PING counts as long as it has waited). */
    redisLatencyMs: z.number().positive().default(100),
    /** A signal turns off under `bound × recoverRatio`... */
    recoverRatio: z.number().gt(0).max(1).default(0.8),
    /** ...held for this long. */
    recoverAfterMs: z.number().int().min(0).default(10_000),
    /** The event-loop window and the PING period. */
    sampleMs: z.number().int().min(10).default(1_000),
  })
  .strict()
export type StressConfig = z.infer<typeof StressConfig>
