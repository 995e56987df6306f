import { createHash } from 'node:crypto'
import type { AgentEvent, AgentOutcome, AgentRunContext, AgentTask, AgentUsage } from '../agent-port.js'
import type { Logger } from '../../logger.js'
import { HermesEventMapper, toUsage, type MappedEvent } from './event-mapper.js'
import {
  describeError,
  type HermesHttp,
  HermesTransportError,
  parseBody,
  retryAfterMs,
} from './hermes-http.js'
import { RunAccepted, RunStatusBody, TERMINAL } from './hermes-wire.js'
import { sseFrames } from './sse-frames.js'

/** The backend's options after defaults (see `HermesBackendOptions`). */
export interface HermesRunSettings {
  apiKeyEnv?: string
  requestTimeoutMs: number
  streamIdleTimeoutMs: number
  silenceCheckMs: number
  pollIntervalMs: number
  pollMaxIntervalMs: number
  startRetryMaxMs: number
  stopSettleMs: number
  now: () => number
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>
  log?: Logger
}

type Halt = { status: 'cancelled' | 'limit'; error: string }
type Fatal = { kind: 'fatal'; error: string }
type StreamEnd =
  | { kind: 'terminal'; mapped: Extract<MappedEvent, { kind: 'terminal' }> }
  | { kind: 'lost'; reason: string; progress: boolean }
  | { kind: 'gone'; reason: string }
  | { kind: 'halted' }
  | Fatal

/** A failure of the worker's context (storing an event): never mistaken for a lost stream, rethrown as is. */
class ContextFailure extends Error {
  constructor(readonly original: unknown) {
    super('the worker context failed')
  }
}

/** More unreadable frames than this on one connection and the stream counts as lost. */
const MAX_BAD_FRAMES = 3
/** Server errors (5xx other than 503) tolerated when starting a run. */
const MAX_START_SERVER_ERRORS = 5
const START_BACKOFF_MS = 500
const VALID_KEY = /^[\x21-\x7e]{1,255}$/

/** The job's key as an Idempotency-Key (1-255 visible ASCII, CONTRACT §4.1), hashed when it is not one. */
export function idempotencyKeyOf(key: string): string {
  return VALID_KEY.test(key) ? key : `uw-${createHash('sha256').update(key).digest('hex')}`
}

/** Waits for `promise` or the signal's abort, whichever comes first (undefined on abort). */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined)
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = () => resolve(undefined)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort)
        resolve(v)
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(e instanceof Error ? e : new Error(String(e)))
      },
    )
  })
}

/**
 * One task on a Hermes server, from POST to outcome (docs/AGENTS.md, "Hermes backend"). The
 * status object is the source of truth for the final state; events are relayed as they come.
 */
export class HermesRun {
  private halt: Halt | undefined
  private readonly halted = new AbortController()
  private mapper: HermesEventMapper | undefined
  private lastEventId: number | undefined
  private sawIds = false
  private readonly asked = new Set<string>()

  constructor(
    private readonly http: HermesHttp,
    private readonly s: HermesRunSettings,
    private readonly task: AgentTask,
    private readonly ctx: AgentRunContext,
  ) {}

  async execute(): Promise<AgentOutcome> {
    const onCancel = () =>
      this.stop({ status: 'cancelled', error: 'cancelled on request; the Hermes run was stopped' })
    if (this.ctx.signal.aborted) onCancel()
    this.ctx.signal.addEventListener('abort', onCancel)
    const wallMs = this.task.limits.wallMs
    const wall = setTimeout(
      () =>
        this.stop({
          status: 'limit',
          error: `the wall-time limit of ${wallMs / 1000} s was reached; the run was stopped`,
        }),
      wallMs,
    )
    try {
      const started = await this.start()
      if (started.kind === 'outcome') return started.outcome
      const { runId, replayed, status } = started
      this.mapper = new HermesEventMapper(runId, this.s.now)
      await this.emit({ kind: 'run.started', at: this.s.now(), runId, ...(replayed ? { replayed } : {}) })
      return await this.follow(runId, status !== undefined && TERMINAL.has(status))
    } catch (err) {
      // The worker could not store an event: its failure, not the run's. The run goes on in
      // Hermes; a replacement worker resumes it under the same Idempotency-Key.
      throw err instanceof ContextFailure ? err.original : err
    } finally {
      clearTimeout(wall)
      this.ctx.signal.removeEventListener('abort', onCancel)
    }
  }

  private stop(halt: Halt): void {
    if (this.halt) return
    this.halt = halt
    this.halted.abort()
  }

  private get signal(): AbortSignal {
    return this.halted.signal
  }

  private async emit(event: AgentEvent): Promise<void> {
    const clean = Object.fromEntries(
      Object.entries(event).map(([k, v]) => [k, typeof v === 'string' ? this.http.redact(v) : v]),
    ) as AgentEvent
    try {
      await this.ctx.onEvent(clean)
    } catch (err) {
      throw new ContextFailure(err)
    }
  }

  private note(text: string): Promise<void> {
    return this.emit({ kind: 'note', at: this.s.now(), text })
  }

  private outcome(fields: Partial<AgentOutcome> & Pick<AgentOutcome, 'status'>): AgentOutcome {
    const out: AgentOutcome = {
      usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
      turns: this.mapper?.turns ?? 0,
      ...(this.task.model ? { model: this.task.model } : {}),
      ...fields,
    }
    if (out.error !== undefined) out.error = this.http.redact(out.error)
    if (out.answer !== undefined) out.answer = this.http.redact(out.answer)
    return out
  }

  private refuse(fields: Partial<AgentOutcome> & Pick<AgentOutcome, 'status'>): {
    kind: 'outcome'
    outcome: AgentOutcome
  } {
    return { kind: 'outcome', outcome: this.outcome(fields) }
  }

  private authFailure(): string {
    const where = this.s.apiKeyEnv ? `check the key in ${this.s.apiKeyEnv}` : "check the house agent's key"
    return `the Hermes server at ${this.http.endpoint.origin} rejected the API key (HTTP 401); ${where}`
  }

  /** POST /v1/runs until accepted: 429/503 and unanswered requests wait and retry (the key makes retries safe). */
  private async start(): Promise<
    | { kind: 'accepted'; runId: string; replayed: boolean; status?: string }
    | { kind: 'outcome'; outcome: AgentOutcome }
  > {
    const body = {
      input: this.task.input,
      instructions: this.task.instructions,
      ...(this.task.model ? { model: this.task.model } : {}),
    }
    const headers = { 'Idempotency-Key': idempotencyKeyOf(this.task.key) }
    let attempt = 0
    let serverErrors = 0
    let busy = false
    for (;;) {
      if (this.halt)
        return this.refuse({
          status: this.halt.status,
          error: `${this.halt.error.split(';')[0]}; no run was started`,
        })
      let wait: number
      try {
        const answer = await this.http.request('POST', '/v1/runs', { body, headers, signal: this.signal })
        if (answer.status === 202 || answer.status === 200 || answer.status === 201) {
          const accepted = parseBody(RunAccepted, answer.text)
          if (!accepted.ok) {
            return this.refuse({
              status: 'failed',
              error: `the Hermes server's answer to POST /v1/runs is unreadable: ${accepted.reason}`,
            })
          }
          return {
            kind: 'accepted',
            runId: accepted.value.run_id,
            replayed: accepted.value.replayed === true,
            status: accepted.value.status,
          }
        }
        if (answer.status === 401) return this.refuse({ status: 'failed', error: this.authFailure() })
        if (answer.status === 429 || answer.status === 503) {
          if (!busy) await this.note(`Hermes is busy (${describeError(answer)}); waiting to start the run`)
          busy = true
          wait = Math.max(retryAfterMs(answer.headers, this.s.now()) ?? 0, START_BACKOFF_MS * 2 ** attempt)
        } else if (answer.status >= 500 && ++serverErrors <= MAX_START_SERVER_ERRORS) {
          wait = START_BACKOFF_MS * 2 ** attempt
        } else {
          return this.refuse({
            status: 'failed',
            error: `the Hermes server refused the run: ${describeError(answer)}`,
          })
        }
      } catch (err) {
        if (this.halt) continue
        this.s.log?.warn(
          { err: (err as Error).message, attempt },
          'hermes: POST /v1/runs got no answer; retrying',
        )
        wait = START_BACKOFF_MS * 2 ** attempt
      }
      attempt += 1
      await this.s.sleep(Math.min(wait, this.s.startRetryMaxMs), this.signal)
    }
  }

  /** Stream while it lasts (reconnecting with Last-Event-ID when frames carry ids), else poll; then the outcome. */
  private async follow(runId: string, alreadyTerminal: boolean): Promise<AgentOutcome> {
    let polling = alreadyTerminal
    let reconnects = 0
    for (;;) {
      if (this.halt) return this.settleStopped(runId)
      if (polling) {
        const polled = await this.poll(runId)
        if (polled === 'halted') continue
        if (polled.kind === 'fatal') return this.outcome({ status: 'failed', runId, error: polled.error })
        return this.finish(polled.status)
      }
      const end = await this.readStream(runId)
      if (end.kind === 'halted') continue
      if (end.kind === 'fatal') return this.outcome({ status: 'failed', runId, error: end.error })
      if (end.kind === 'terminal') return this.finish(await this.truthAfter(runId, end.mapped))
      // A replay-capable server resumes after our cursor; a legacy one has dropped the run's events.
      const resume = end.kind === 'lost' && this.sawIds && end.progress && reconnects < 20
      const next = resume ? `reconnecting with Last-Event-ID ${this.lastEventId}` : "polling the run's status"
      this.s.log?.warn({ runId, reason: end.reason }, `hermes: event stream lost; ${next}`)
      await this.emit({ kind: 'stream.lost', at: this.s.now(), reason: `${end.reason}; ${next}` })
      if (resume) reconnects += 1
      else polling = true
    }
  }

  /** Reads one connection of the run's event stream, relaying each event as it arrives. */
  private async readStream(runId: string): Promise<StreamEnd> {
    const idle = new AbortController()
    let timer: NodeJS.Timeout | undefined
    const arm = () => {
      clearTimeout(timer)
      timer = setTimeout(() => idle.abort(), this.s.streamIdleTimeoutMs)
    }
    // A silent stream of a run that already ended is a zombie (legacy, §9 #2): give it up.
    const zombie = new AbortController()
    let silence: NodeJS.Timeout | undefined
    const watchSilence = () => {
      clearTimeout(silence)
      silence = setTimeout(() => {
        void this.status(runId, AbortSignal.timeout(this.s.requestTimeoutMs)).then((got) => {
          if (got.ok && TERMINAL.has(got.status.status)) zombie.abort()
          else if (!zombie.signal.aborted) watchSilence()
        })
      }, this.s.silenceCheckMs)
    }
    const signal = AbortSignal.any([this.signal, idle.signal, zombie.signal])
    let progress = false
    let badFrames = 0
    const lost = (reason: string): StreamEnd => ({ kind: 'lost', reason: this.http.redact(reason), progress })
    arm()
    watchSilence()
    try {
      const cursor: Record<string, string> =
        this.lastEventId === undefined ? {} : { 'Last-Event-ID': String(this.lastEventId) }
      const response = await this.http.stream(`/v1/runs/${encodeURIComponent(runId)}/events`, cursor, signal)
      if (response.status !== 200 || !response.body) {
        await response.body?.cancel().catch(() => {})
        if (response.status === 404) return { kind: 'gone', reason: 'the event stream is gone (HTTP 404)' }
        if (response.status === 401) return { kind: 'fatal', error: this.authFailure() }
        return lost(`the event stream answered HTTP ${response.status}`)
      }
      for await (const frame of sseFrames(response.body, arm)) {
        clearTimeout(timer) // relaying may wait (a slow store, an approval); that is not the server's idleness
        clearTimeout(silence)
        let payload: unknown
        try {
          payload = JSON.parse(frame.data)
        } catch (err) {
          const sample = JSON.stringify(frame.data.slice(0, 60))
          await this.note(
            `Hermes sent an unreadable event frame (${(err as Error).message}): ${sample}; skipped`,
          )
          if (++badFrames >= MAX_BAD_FRAMES) return lost(`${badFrames} unreadable event frames`)
          arm()
          continue
        }
        const seq = (payload as { seq?: unknown } | null)?.seq
        const id =
          frame.id !== undefined && /^\d{1,15}$/.test(frame.id)
            ? Number(frame.id)
            : typeof seq === 'number' && Number.isSafeInteger(seq)
              ? seq
              : undefined
        if (id !== undefined) {
          this.sawIds = true
          if (this.lastEventId !== undefined && id <= this.lastEventId) {
            arm()
            continue // already relayed before a reconnect
          }
          this.lastEventId = id
        }
        progress = true
        const mapped = this.mapper!.map(payload)
        for (const event of mapped.events) await this.emit(event)
        if (mapped.kind === 'terminal') return { kind: 'terminal', mapped }
        if (mapped.kind === 'approval') await this.answerApproval(runId, mapped)
        this.checkTokens(this.mapper!.subagentUsage)
        if (this.halt) return { kind: 'halted' }
        arm()
        watchSilence()
      }
      return lost('the event stream ended before the run did')
    } catch (err) {
      if (err instanceof ContextFailure) throw err
      if (this.halt) return { kind: 'halted' }
      if (idle.signal.aborted) return lost(`no data on the event stream for ${this.s.streamIdleTimeoutMs} ms`)
      if (zombie.signal.aborted) return lost('the run ended but its event stream stayed silent')
      const e = err as Error & { cause?: { code?: string } }
      return lost(
        `the event stream broke (${e instanceof HermesTransportError ? e.message : (e.cause?.code ?? e.message)})`,
      )
    } finally {
      clearTimeout(timer)
      clearTimeout(silence)
      zombie.abort() // ends a status check still in flight from rearming
    }
  }

  /** Asks the worker (a sovereign) and posts the answer: approve → `once`, deny → `deny`. */
  private async answerApproval(
    runId: string,
    request: Extract<MappedEvent, { kind: 'approval' }>,
  ): Promise<void> {
    if (this.asked.has(request.requestId)) return
    this.asked.add(request.requestId)
    let decision: 'approve' | 'deny' | undefined
    try {
      decision = await unlessAborted(
        this.ctx.askApproval({
          requestId: request.requestId,
          description: this.http.redact(request.description),
          ...(request.command ? { command: this.http.redact(request.command) } : {}),
        }),
        this.signal,
      )
    } catch (err) {
      // No answer is no approval.
      await this.note(`asking for approval failed (${(err as Error).message}); answering deny`)
      decision = 'deny'
    }
    if (decision === undefined) return
    const synthetic = request.requestId.startsWith(`${runId}:approval:`)
    const body = {
      choice: decision === 'approve' ? 'once' : 'deny',
      ...(synthetic ? {} : { request_id: request.requestId }),
    }
    try {
      const answer = await this.http.request('POST', `/v1/runs/${encodeURIComponent(runId)}/approval`, {
        body,
        signal: this.signal,
      })
      if (answer.status !== 200)
        await this.note(`Hermes did not take the approval answer: ${describeError(answer)}`)
    } catch (err) {
      if (!this.halt) await this.note(`the approval answer got no answer: ${(err as Error).message}`)
    }
  }

  private checkTokens(usage: AgentUsage): void {
    const cap = this.task.limits.maxTokens
    if (cap > 0 && usage.totalTokens > cap) {
      this.stop({
        status: 'limit',
        error: `the run used ${usage.totalTokens} tokens, over the job's cap of ${cap}; the run was stopped`,
      })
    }
  }

  /** GET /v1/runs/{id} once. */
  private async status(
    runId: string,
    signal: AbortSignal,
  ): Promise<{ ok: true; status: RunStatusBody } | { ok: false; reason: string; code?: number }> {
    try {
      const answer = await this.http.request('GET', `/v1/runs/${encodeURIComponent(runId)}`, { signal })
      if (answer.status !== 200)
        return { ok: false, reason: this.http.redact(describeError(answer)), code: answer.status }
      const parsed = parseBody(RunStatusBody, answer.text)
      return parsed.ok
        ? { ok: true, status: parsed.value }
        : { ok: false, reason: `unreadable run status: ${parsed.reason}`, code: 200 }
    } catch (err) {
      return { ok: false, reason: this.http.redact((err as Error).message) }
    }
  }

  /** Polls the status with backoff until terminal; answers an approval the lost stream never showed. */
  private async poll(runId: string): Promise<{ kind: 'status'; status: RunStatusBody } | Fatal | 'halted'> {
    let delay = this.s.pollIntervalMs
    let unreadable = 0
    for (;;) {
      if (this.halt) return 'halted'
      const got = await this.status(runId, this.signal)
      if (this.halt) return 'halted'
      if (got.ok) {
        const status = got.status
        if (TERMINAL.has(status.status)) return { kind: 'status', status }
        if (status.usage) this.checkTokens(toUsage(status.usage))
        if (status.status === 'waiting_for_approval' && status.approval) {
          const mapped = this.mapper!.map({ ...status.approval, event: 'approval.request' })
          if (mapped.kind === 'approval' && !this.asked.has(mapped.requestId)) {
            for (const event of mapped.events) await this.emit(event)
            await this.answerApproval(runId, mapped)
            delay = this.s.pollIntervalMs
            continue
          }
        }
      } else if (got.code === 404) {
        return {
          kind: 'status',
          status: {
            status: 'interrupted',
            error: 'the Hermes server no longer knows this run (it restarted without keeping it)',
          },
        }
      } else if (got.code === 401) {
        return { kind: 'fatal', error: this.authFailure() }
      } else if (got.code === 200 && ++unreadable >= MAX_BAD_FRAMES) {
        return { kind: 'fatal', error: `the Hermes server sent an ${got.reason}` }
      } else {
        this.s.log?.warn({ runId, reason: got.reason }, 'hermes: run status poll failed; retrying')
      }
      await this.s.sleep(delay, this.signal)
      delay = Math.min(delay * 2, this.s.pollMaxIntervalMs)
    }
  }

  /** After a terminal event: the status object is the truth; the event stands in if the status cannot be read. */
  private async truthAfter(
    runId: string,
    terminal: Extract<MappedEvent, { kind: 'terminal' }>,
  ): Promise<RunStatusBody> {
    const got = await this.status(runId, AbortSignal.timeout(this.s.requestTimeoutMs))
    if (got.ok && TERMINAL.has(got.status.status)) return got.status
    return {
      status: terminal.status,
      ...(terminal.output !== undefined ? { output: terminal.output } : {}),
      ...(terminal.usage ? { usage: terminal.usage } : {}),
      ...(terminal.error ? { error: terminal.error } : {}),
    }
  }

  private async finish(status: RunStatusBody): Promise<AgentOutcome> {
    const runId = status.run_id ?? undefined
    const usage = status.usage ? toUsage(status.usage) : { ...this.mapper!.subagentUsage }
    const model = status.runtime?.model ?? status.model ?? this.task.model
    const base = { usage, ...(runId ? { runId } : {}), ...(model ? { model } : {}) }
    switch (status.status) {
      case 'completed': {
        const answer = status.output ?? this.mapper!.text
        await this.emit({ kind: 'usage', at: this.s.now(), usage })
        await this.emit({ kind: 'message', at: this.s.now(), text: answer, final: true })
        const cap = this.task.limits.maxTokens
        if (cap > 0 && usage.totalTokens > cap) {
          return this.outcome({
            ...base,
            status: 'limit',
            answer,
            error: `the run used ${usage.totalTokens} tokens, over the job's cap of ${cap}`,
          })
        }
        return this.outcome({ ...base, status: 'completed', answer })
      }
      case 'failed':
        return this.outcome({
          ...base,
          status: 'failed',
          error: `the Hermes run failed: ${status.error ?? 'no reason given'}`,
        })
      case 'cancelled':
        return this.outcome({
          ...base,
          status: 'cancelled',
          error: 'the run was cancelled on the Hermes server',
        })
      default:
        return this.outcome({
          ...base,
          status: 'interrupted',
          error: `the Hermes gateway interrupted the run: ${status.error ?? 'no reason given'}`,
        })
    }
  }

  /** Cancel or a limit: POST stop, wait (bounded) for the run to settle, say how it ended. */
  private async settleStopped(runId: string): Promise<AgentOutcome> {
    const halt = this.halt!
    const path = `/v1/runs/${encodeURIComponent(runId)}`
    try {
      const answer = await this.http.request('POST', `${path}/stop`, {
        signal: AbortSignal.timeout(this.s.requestTimeoutMs),
      })
      if (answer.status !== 200) await this.note(`Hermes did not take the stop: ${describeError(answer)}`)
    } catch (err) {
      await this.note(`the stop got no answer: ${(err as Error).message}`)
    }
    const deadline = this.s.now() + this.s.stopSettleMs
    let last: RunStatusBody | undefined
    for (;;) {
      const got = await this.status(runId, AbortSignal.timeout(this.s.requestTimeoutMs))
      if (got.ok) last = got.status
      if ((last && TERMINAL.has(last.status)) || (!got.ok && got.code === 404) || this.s.now() >= deadline)
        break
      await this.s.sleep(this.s.pollIntervalMs)
    }
    const settled = last !== undefined && TERMINAL.has(last.status)
    const usage = last?.usage
      ? toUsage(last.usage)
      : { ...(this.mapper?.subagentUsage ?? { inputTokens: 0, outputTokens: 0, totalTokens: 0 }) }
    return this.outcome({
      status: halt.status,
      runId,
      usage,
      ...(last?.output ? { answer: last.output } : {}),
      error: settled
        ? `${halt.error} (it ended ${last!.status})`
        : `${halt.error}, but it had not settled after ${this.s.stopSettleMs / 1000} s`,
    })
  }
}
