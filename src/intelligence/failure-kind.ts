/**
 * Why a call failed, coarsely: the pattern store counts failures by kind, and INTELLIGENT mode
 * retries a kind only while its retries have recovered (docs/INTELLIGENCE.md).
 */
export const FAILURE_KINDS = [
  // transient: the same call may work on the next try
  'timeout',
  'network',
  'server',
  'breaker',
  'busy',
  // permanent: the same call fails the same way
  'policy',
  'validation',
  'tool',
] as const
export type FailureKind = (typeof FAILURE_KINDS)[number]

/**
 * Kinds that are transient by nature. The harness retries the ones its attempt loop sees (network,
 * server, busy) while their record says retries recover; a timeout is never retried, its adapted
 * length is its adaptation.
 */
export const TRANSIENT_KINDS: ReadonlySet<FailureKind> = new Set([
  'timeout',
  'network',
  'server',
  'breaker',
  'busy',
])

/** Whether a string is a failure kind (what the store reads back is checked with it). */
export function isFailureKind(s: string): s is FailureKind {
  return (FAILURE_KINDS as readonly string[]).includes(s)
}
