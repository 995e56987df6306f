/**
 * A fault the model double injects instead of (or before) its scripted answer, for the next
 * `count` requests to `/v1/chat/completions` (default 1). A faulted request does not consume a
 * script step.
 * - `status` answers that status with an OpenAI error body (`message` as its text), and
 *   `retryAfter` (seconds, or an HTTP date) as the Retry-After header;
 * - `malformed`: 200 with a body that is not JSON (`json`) or JSON that is not a chat completion (`shape`);
 * - `delayMs`: waits that long, then answers as scripted (or with the fault status);
 * - `network`: drops the connection without an answer.
 */
export interface ModelFault {
  status?: number
  retryAfter?: number | string
  message?: string
  malformed?: 'json' | 'shape'
  delayMs?: number
  network?: boolean
  count?: number
}

/** The queue of faults: the first one with requests left applies. */
export class ModelFaults {
  private faults: (ModelFault & { remaining: number })[] = []

  /** Adds a fault after the ones already queued. */
  add(fault: ModelFault): void {
    this.faults.push({ ...fault, remaining: fault.count ?? 1 })
  }

  clear(): void {
    this.faults = []
  }

  /** Consumes the fault for this request, if any. */
  take(): ModelFault | undefined {
    this.faults = this.faults.filter((f) => f.remaining > 0)
    const fault = this.faults[0]
    if (!fault) return undefined
    fault.remaining -= 1
    return fault
  }
}
