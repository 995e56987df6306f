/**
 * One run of the Hermes double: its status object (CONTRACT §5.1), its event journal and the
 * subscribers of its event stream in either framing (§6.2, §6.5).
 * - legacy: one shared FIFO buffered from admission; `data:` lines only; when a subscriber's
 *   connection ends for any reason the transport is dropped, later events are discarded and
 *   every resubscribe is a 404 while the run goes on (§9 #1, #2).
 * - replay: `id: n` lines, `Last-Event-ID` resumes after the cursor, fan-out to every subscriber.
 */

export type RunStatus =
  | 'queued'
  | 'running'
  | 'waiting_for_approval'
  | 'stopping'
  | 'completed'
  | 'failed'
  | 'cancelled'
  | 'interrupted'

export const TERMINAL_STATUSES: ReadonlySet<RunStatus> = new Set([
  'completed',
  'failed',
  'cancelled',
  'interrupted',
])

export type Framing = 'legacy' | 'replay'

/** One event as the double emitted it (for tests: what the stream should have carried). */
export interface EmittedEvent {
  id: number
  event: string
  payload: Record<string, unknown>
}

interface JournalEntry {
  /** The replay id; undefined for raw (fault) text. */
  id?: number
  text: string
}

interface Subscriber {
  controller: ReadableStreamDefaultController<Uint8Array>
  /** Destroys the connection's socket (real HTTP); without it a drop errors the body stream. */
  cut?: () => void
  cursor: number
  done: boolean
}

const encoder = new TextEncoder()

/** Python's json.dumps default: non-ASCII escaped as \uXXXX (§9 #20), compact separators. */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

export class DoubleRun {
  readonly status: Record<string, unknown>
  readonly emitted: EmittedEvent[] = []
  readonly abort = new AbortController()
  stopRequested = false
  /** Legacy only: the transport was dropped (a subscriber left, a fault, the sweep). */
  transportDropped = false
  /** The end-of-stream sentinel was enqueued. */
  closed = false
  closedAt: number | undefined
  everSubscribed = false
  pendingApproval: { requestId: string; resolve: (choice: string) => void } | undefined
  private journal: JournalEntry[] = []
  private legacyCursor = 0
  private nextId: number
  private subscribers = new Set<Subscriber>()
  private wakers = new Set<() => void>()

  constructor(
    readonly runId: string,
    readonly idempotencyKey: string | undefined,
    readonly framing: Framing,
    sessionId: string,
    model: string,
    private readonly clock: () => number,
    idStart: number,
  ) {
    this.nextId = idStart
    const t = clock() / 1000
    this.status = {
      object: 'hermes.run',
      run_id: runId,
      status: 'queued',
      updated_at: t,
      created_at: t,
      session_id: sessionId,
      model,
    }
  }

  get state(): RunStatus {
    return this.status.status as RunStatus
  }

  get terminal(): boolean {
    return TERMINAL_STATUSES.has(this.state)
  }

  get subscriberCount(): number {
    return this.subscribers.size
  }

  /** Sets the status (and `last_event` when given); `approval` lives only while waiting for one. */
  setStatus(status: RunStatus, fields: Record<string, unknown> = {}, lastEvent?: string): void {
    this.status.status = status
    this.status.updated_at = this.clock() / 1000
    if (lastEvent) this.status.last_event = lastEvent
    if (status !== 'waiting_for_approval') delete this.status.approval
    Object.assign(this.status, fields)
  }

  /** Emits one event: envelope (`event`, `run_id`, `timestamp`) first, then its fields (§6.3). */
  emit(event: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
    const payload = { event, run_id: this.runId, timestamp: this.clock() / 1000, ...fields }
    const id = this.nextId++
    this.emitted.push({ id, event, payload })
    if (!this.status.last_event || !TERMINAL_STATUSES.has(this.state)) this.status.last_event = event
    const data = `data: ${asciiJson(payload)}\n\n`
    this.append({ id, text: this.framing === 'replay' ? `id: ${id}\n${data}` : data })
    return payload
  }

  /** Writes text verbatim into the stream (a fault: bad frames). */
  raw(text: string): void {
    this.append({ text })
  }

  /** Enqueues the end of stream: subscribers get `: stream closed` and the response ends. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.closedAt = this.clock()
    this.wake()
  }

  /** Cuts every live connection (as a network drop); legacy framing loses the transport. */
  dropConnections(): void {
    for (const s of this.subscribers) this.finish(s, new Error('event stream dropped by a fault'))
    if (this.framing === 'legacy') this.transportDropped = true
  }

  /**
   * Whether a new subscriber can attach now. Legacy: not after the transport was dropped, nor
   * after the unsubscribed buffer outlived `legacyTtlMs` (the sweep). Replay: the journal is kept
   * `replayRetentionMs` after the run ended.
   */
  canSubscribe(legacyTtlMs: number, replayRetentionMs: number): boolean {
    const now = this.clock()
    if (this.framing === 'legacy') {
      if (this.transportDropped) return false
      const created = (this.status.created_at as number) * 1000
      return this.everSubscribed || this.subscribers.size > 0 || now - created <= legacyTtlMs
    }
    return this.closedAt === undefined || now - this.closedAt <= replayRetentionMs
  }

  /** The SSE body for one subscriber; `lastEventId` is honoured in replay framing only. */
  subscribe(
    lastEventId: string | undefined,
    keepaliveMs: number,
    cut?: () => void,
  ): ReadableStream<Uint8Array> {
    this.everSubscribed = true
    let sub: Subscriber | undefined
    let timer: NodeJS.Timeout | undefined
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        sub = {
          controller,
          cursor: this.framing === 'replay' ? this.replayStart(lastEventId) : 0,
          done: false,
          ...(cut ? { cut } : {}),
        }
        this.subscribers.add(sub)
        const s = sub
        const pump = async (): Promise<void> => {
          while (!s.done) {
            const next = this.nextFor(s)
            if (next !== undefined) {
              controller.enqueue(encoder.encode(next))
              continue
            }
            // Legacy: a subscriber left behind when the transport dropped gets only keepalives (§6.5, 3).
            if (this.closed && !(this.framing === 'legacy' && this.transportDropped)) {
              controller.enqueue(encoder.encode(': stream closed\n\n'))
              this.finish(s)
              return
            }
            const woke = await new Promise<boolean>((resolve) => {
              const waker = () => resolve(true)
              this.wakers.add(waker)
              timer = setTimeout(() => {
                this.wakers.delete(waker)
                resolve(false)
              }, keepaliveMs)
            })
            clearTimeout(timer)
            if (!woke && !s.done) controller.enqueue(encoder.encode(': keepalive\n\n'))
          }
        }
        void pump()
      },
      cancel: () => {
        // The client went away.
        clearTimeout(timer)
        if (sub) this.finish(sub, undefined, true)
      },
    })
  }

  private replayStart(lastEventId: string | undefined): number {
    // Invalid values (non-decimal, leading zeros, more than 20 digits) mean "from the start".
    if (lastEventId === undefined || !/^(0|[1-9][0-9]{0,19})$/.test(lastEventId)) return 0
    const cursor = Number(lastEventId)
    const index = this.journal.findIndex((e) => e.id !== undefined && e.id > cursor)
    return index === -1 ? this.journal.length : index
  }

  private nextFor(s: Subscriber): string | undefined {
    if (this.framing === 'legacy') {
      if (this.transportDropped) return undefined
      const entry = this.journal[this.legacyCursor]
      if (entry) this.legacyCursor += 1
      return entry?.text
    }
    const entry = this.journal[s.cursor]
    if (entry) s.cursor += 1
    return entry?.text
  }

  private append(entry: JournalEntry): void {
    // Legacy: with the transport gone, later events are silently discarded.
    if (this.framing === 'legacy' && this.transportDropped) return
    this.journal.push(entry)
    this.wake()
  }

  private wake(): void {
    const wakers = [...this.wakers]
    this.wakers.clear()
    for (const w of wakers) w()
  }

  private finish(s: Subscriber, error?: Error, cancelled = false): void {
    if (s.done) return
    s.done = true
    this.subscribers.delete(s)
    // Legacy: whatever ended the connection, the run's transport is dropped with it.
    if (this.framing === 'legacy') this.transportDropped = true
    if (!cancelled) {
      try {
        if (error && s.cut) s.cut()
        else if (error) s.controller.error(error)
        else s.controller.close()
      } catch {
        // Already closed by the other side.
      }
    }
    this.wake()
  }
}
