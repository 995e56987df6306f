/**
 * A canned answer the Hermes double gives instead of its normal handling: `status` with `body`
 * verbatim (garbage JSON is allowed: that is the point) and `retryAfter` as the Retry-After header.
 * It applies to the next `count` matching requests (default: all); `match` restricts it to a
 * method and/or a path prefix or pattern.
 */
export interface HermesFault {
  status: number
  body?: string
  retryAfter?: number
  count?: number
  match?: { method?: string; path?: string | RegExp }
}

/**
 * The fault switches of the Hermes double.
 *
 * @example
 *   double.faults.rejectStarts(429, 2)                // the next two new runs are refused (cap reached)
 *   double.faults.draining = true                      // every POST /v1/runs answers 503 gateway_draining
 *   double.faults.add({ status: 200, body: '{oops', count: 1, match: { method: 'GET', path: /^\/v1\/runs\/[^/]+$/ } })
 */
export class HermesFaults {
  /** POST /v1/runs answers 503 `gateway_draining` (Retry-After: 1). */
  draining = false
  /** A stop is accepted (status `stopping`) but the agent goes on and the run may still complete (§9 #10). */
  stopIgnored = false
  private rejections = 0
  private rejectionStatus: 429 | 503 = 429
  private canned: (HermesFault & { remaining: number })[] = []

  /**
   * The next `count` runs that would be admitted are refused with 429 `rate_limit_exceeded` (as if
   * the concurrency cap were reached; checked after the idempotency lookup, so a replay still
   * succeeds) or 503 `gateway_draining`.
   */
  rejectStarts(status: 429 | 503, count: number): void {
    this.rejectionStatus = status
    this.rejections = count
  }

  /** Consumes one start rejection, if any is left. */
  takeStartRejection(): 429 | 503 | undefined {
    if (this.rejections <= 0) return undefined
    this.rejections -= 1
    return this.rejectionStatus
  }

  add(fault: HermesFault): void {
    this.canned.push({ ...fault, remaining: fault.count ?? Number.POSITIVE_INFINITY })
  }

  clear(): void {
    this.canned = []
    this.rejections = 0
    this.draining = false
    this.stopIgnored = false
  }

  /** Consumes and returns the canned answer for this request, if any. */
  take(method: string, path: string): HermesFault | undefined {
    this.canned = this.canned.filter((f) => f.remaining > 0)
    const fault = this.canned.find((f) => matches(f, method, path))
    if (fault) fault.remaining -= 1
    return fault
  }
}

function matches(fault: HermesFault, method: string, path: string): boolean {
  const m = fault.match
  if (!m) return true
  if (m.method && m.method.toUpperCase() !== method.toUpperCase()) return false
  if (m.path instanceof RegExp) return m.path.test(path)
  if (typeof m.path === 'string') return path.startsWith(m.path)
  return true
}
