/** How the adapter retries transient failures. Tests shrink the delays; production keeps defaults. */
export interface RetryPolicy {
  /** Total HTTP attempts per call, including the first. */
  attempts: number
  /** Backoff base: attempt n waits a random time in [0, min(maxDelayMs, baseDelayMs * 2^(n-1))). */
  baseDelayMs: number
  maxDelayMs: number
  /** A Retry-After longer than this is capped, so one call never sleeps for an hour. */
  maxRetryAfterMs: number
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 4,
  baseDelayMs: 300,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 30_000,
}

/**
 * Exponential backoff with full jitter (AWS architecture blog): spreads retries from many
 * workers instead of having them hit a recovering Gitea in lockstep.
 *
 * @example backoffDelay(2, DEFAULT_RETRY_POLICY) // somewhere in [0, 600) ms
 */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1))
  return Math.floor(random() * ceiling)
}

/**
 * Parses a Retry-After header (delta seconds or an HTTP date) into milliseconds from now.
 * Returns undefined when absent or unreadable, so the caller falls back to backoff.
 *
 * @example parseRetryAfter('2') // 2000
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined
  const trimmed = value.trim()
  if (trimmed === '') return undefined
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const at = Date.parse(trimmed)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, at - now)
}
