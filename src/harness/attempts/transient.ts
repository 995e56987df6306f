import { ToolError } from '../../tools/tool.js'

/**
 * An error and its causes, outermost first, at most five deep (wrappers rarely nest more, and a
 * cyclic `cause` must not loop): what the retry and fault rules look through.
 */
export function causeChain(err: unknown): object[] {
  const chain: object[] = []
  for (
    let e: unknown = err;
    e && typeof e === 'object' && chain.length < 5;
    e = (e as { cause?: unknown }).cause
  )
    chain.push(e)
  return chain
}

/** System error codes of trouble that is gone on the next try (network, a busy resource). */
export const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'EPIPE',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'EBUSY',
  'EAGAIN',
])

// Lock contention and server-side hiccups that are gone on the next try.
const TRANSIENT_TEXT =
  /index\.lock|\.lock': File exists|Unable to create '[^']*\.lock'|resource temporarily unavailable|could not lock|lock contention|\b(?:429|50[0-4])\b.*(?:error|status|response)|(?:status|error|response)\D{0,20}\b(?:429|50[0-4])\b|ECONNRESET|ETIMEDOUT|EAI_AGAIN/i

/**
 * Whether an error is worth retrying: a ToolError marked transient, any error carrying
 * `transient: true` (e.g. GiteaError), a network error code, an HTTP 5xx/429 status, or (for an
 * error that is not a ToolError) a message about a lock held by someone else (`index.lock`); a
 * ToolError's message is never read, only its `transient` flag. Everything else is deterministic and is not retried, and
 * so is an error saying the write may already have happened (`mayHaveBeenApplied: true`).
 *
 * @example
 *   isTransient(new ToolError('HTTP 503', true)) // true
 */
export function isTransient(err: unknown): boolean {
  const chain = causeChain(err)
  // A write that may have happened (a Gitea create whose answer was lost) is not repeated, however
  // it was wrapped.
  if (chain.some((e) => (e as { mayHaveBeenApplied?: unknown }).mayHaveBeenApplied === true)) return false
  for (const [depth, e] of chain.entries()) {
    const o = e as { transient?: unknown; code?: unknown; status?: unknown; message?: unknown }
    if (o.transient === true) return true
    if (typeof o.code === 'string' && TRANSIENT_CODES.has(o.code)) return true
    if (typeof o.status === 'number' && (o.status >= 500 || o.status === 429)) return true
    // A ToolError's message is never read: it quotes the caller's arguments (`fatal: bad revision
    // 'index.lock'`), and the tool already said whether it is transient. An explicit
    // ToolError(…, false) with no cause is the tool saying "do not retry".
    if (e instanceof ToolError) {
      if (depth === 0 && !e.cause) return false
      continue
    }
    if (typeof o.message === 'string' && TRANSIENT_TEXT.test(o.message)) return true
  }
  return false
}

/**
 * Exponential backoff with full jitter: a uniform delay in [0, min(max, base·2^(attempt-1))].
 *
 * @example
 *   backoffDelay(3, { baseDelayMs: 200, maxDelayMs: 5000 }) // somewhere in 0..800
 */
export function backoffDelay(
  attempt: number,
  opts: { baseDelayMs: number; maxDelayMs: number },
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** Math.max(0, attempt - 1))
  return Math.floor(random() * ceiling)
}
