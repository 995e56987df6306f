/**
 * A fault the double injects before its normal handling.
 * - `status` answers that status (with `retryAfter` as the Retry-After header, seconds or date);
 * - `network` drops the connection (real HTTP) or yields a network error (msw);
 * - `hangMs` delays the request that long, then serves it normally (or the fault status); a
 *   client that gave up meanwhile has its request dropped, as by a server that never read it;
 * - `lateMs` serves the request normally, then holds the answer that long: a write Gitea
 *   applied whose answer a client that gave up never sees.
 * It applies to the next `count` matching requests (default: all) and/or until `untilMs`
 * (epoch ms). `match` restricts it to a method and/or path prefix or pattern.
 */
export interface Fault {
  status?: number
  retryAfter?: string | number
  network?: boolean
  hangMs?: number
  lateMs?: number
  count?: number
  untilMs?: number
  match?: { method?: string; path?: string | RegExp }
}

export interface FaultDecision {
  status?: number
  retryAfter?: string
  network: boolean
  hangMs: number
  lateMs: number
}

/**
 * The fault-injection control of the Gitea double.
 *
 * @example
 *   double.faults.set({ status: 500, count: 2 })          // two 500s, then normal service
 *   double.faults.set({ status: 429, retryAfter: 1, count: 1 })
 *   double.faults.set({ hangMs: 10_000, match: { path: '/api/v1/user' } })
 */
export class FaultControl {
  private faults: (Fault & { remaining: number })[] = []

  /** Replaces all faults with this one. */
  set(fault: Fault): void {
    this.faults = [{ ...fault, remaining: fault.count ?? Number.POSITIVE_INFINITY }]
  }

  /** Adds a fault; the earliest matching fault wins. */
  add(fault: Fault): void {
    this.faults.push({ ...fault, remaining: fault.count ?? Number.POSITIVE_INFINITY })
  }

  clear(): void {
    this.faults = []
  }

  /** Consumes and returns the fault for this request, if any. */
  take(method: string, path: string, now: number = Date.now()): FaultDecision | undefined {
    this.faults = this.faults.filter((f) => f.remaining > 0 && (f.untilMs === undefined || now < f.untilMs))
    const fault = this.faults.find((f) => matches(f, method, path))
    if (!fault) return undefined
    fault.remaining -= 1
    return {
      status: fault.status,
      retryAfter: fault.retryAfter === undefined ? undefined : String(fault.retryAfter),
      network: fault.network ?? false,
      hangMs: fault.hangMs ?? 0,
      lateMs: fault.lateMs ?? 0,
    }
  }
}

function matches(fault: Fault, method: string, path: string): boolean {
  const m = fault.match
  if (!m) return true
  if (m.method && m.method.toUpperCase() !== method.toUpperCase()) return false
  if (m.path instanceof RegExp) return m.path.test(path)
  if (typeof m.path === 'string') return path.startsWith(m.path)
  return true
}
