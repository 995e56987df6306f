/**
 * Retry delay of attempt n (1-based): `base · 2^(n-1)`, capped. Used as the custom backoff of the
 * events and reports queues; with the defaults (1 s, 5 min cap, 200 attempts) a job keeps trying
 * for about 16 hours.
 *
 * @example
 *   cappedBackoff(3, 1000, 300_000) // 4000
 */
export function cappedBackoff(attemptsMade: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, attemptsMade - 1)))
}
