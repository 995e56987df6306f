import { createHash, randomBytes } from 'node:crypto'
import { DoubleRun, type EmittedEvent, type Framing } from './double-run.js'
import { HermesFaults } from './faults.js'
import { RESTART_ERROR, runScript, settle, SHUTDOWN_ERROR } from './run-script.js'
import { echoScript, type HermesRunRequest, type HermesScript } from './script.js'

export interface HermesDoubleOptions {
  /** The API key every route but /health needs; `null` admits everyone (test wiring only). Default: a fixed test key. */
  apiKey?: string | null
  /** Event stream behaviour (CONTRACT §6.2): `legacy` (default) or `replay`. */
  framing?: Framing
  /** Replay framing: the first event id (1 in [V:journal], 0 in third-party notes). Default 1. */
  replayIdStart?: 0 | 1
  /** What each run does. Default: `echoScript`. */
  script?: HermesScript
  /** `gateway.api_server.max_concurrent_runs`; 0 disables the cap. Default 10. */
  maxConcurrentRuns?: number
  /** Idle time before `: keepalive`. Default 30 000 ms (legacy) or 10 000 ms (replay). */
  keepaliveMs?: number
  /** How long GET …/events waits for a stream to register before its 404 (20 × 50 ms upstream). Default 1000 ms. */
  streamWaitMs?: number
  /** Legacy: an unsubscribed buffer is swept after this long. Default 300 000 ms. */
  legacyStreamTtlMs?: number
  /** Replay: the journal is kept this long after the run ended. Default 300 000 ms. */
  replayRetentionMs?: number
  /** The advertised model name. Default `hermes-agent`. */
  modelName?: string
  version?: string
  now?: () => number
}

/** One request the double answered, for tests to assert on. */
export interface HermesLoggedRequest {
  method: string
  path: string
  status: number
  idempotencyKey?: string
  lastEventId?: string
  /** Whether `Authorization` carried the right key. */
  authorized: boolean
  body?: string
}

export const DEFAULT_DOUBLE_API_KEY = 'hermes-double-test-key-0123456789'

/**
 * A Hermes Agent API server double (CONTRACT.md in ../shared/hermes): scripted runs, both event
 * framings, approvals, stop, idempotency replay, the concurrency cap and fault switches. The HTTP
 * face is `createHermesDoubleApp`; `startHermesDouble` serves it on a real port.
 *
 * @example
 *   const { url, double, close } = await startHermesDouble({ script: () => [{ kind: 'complete', output: 'hi' }] })
 *   // ... drive a client against url with double.apiKey ...
 *   expect(double.startedRuns()).toHaveLength(1)
 *   await close()
 */
export class HermesDouble {
  readonly apiKey: string | null
  readonly framing: Framing
  readonly faults = new HermesFaults()
  readonly requests: HermesLoggedRequest[] = []
  readonly modelName: string
  readonly version: string
  readonly keepaliveMs: number
  readonly streamWaitMs: number
  script: HermesScript
  maxConcurrentRuns: number
  private readonly runs = new Map<string, DoubleRun>()
  private readonly admitted: string[] = []
  private readonly idempotency = new Map<string, { fingerprint: string; runId: string }>()
  private readonly replayIdStart: number
  private readonly legacyStreamTtlMs: number
  private readonly replayRetentionMs: number
  readonly now: () => number

  constructor(options: HermesDoubleOptions = {}) {
    this.apiKey = options.apiKey === undefined ? DEFAULT_DOUBLE_API_KEY : options.apiKey
    this.framing = options.framing ?? 'legacy'
    this.script = options.script ?? echoScript
    this.maxConcurrentRuns = Math.max(0, options.maxConcurrentRuns ?? 10)
    this.keepaliveMs = options.keepaliveMs ?? (this.framing === 'legacy' ? 30_000 : 10_000)
    this.streamWaitMs = options.streamWaitMs ?? 1000
    this.legacyStreamTtlMs = options.legacyStreamTtlMs ?? 300_000
    this.replayRetentionMs = options.replayRetentionMs ?? 300_000
    this.replayIdStart = options.replayIdStart ?? 1
    this.modelName = options.modelName ?? 'hermes-agent'
    this.version = options.version ?? '0.0.0-double'
    this.now = options.now ?? Date.now
  }

  /** Run ids really admitted (replays excluded), in order. */
  startedRuns(): string[] {
    return [...this.admitted]
  }

  /** The Idempotency-Keys sent with POST /v1/runs, in order (replays included). */
  idempotencyKeys(): string[] {
    return this.requests
      .filter((r) => r.method === 'POST' && r.path === '/v1/runs' && r.idempotencyKey !== undefined)
      .map((r) => r.idempotencyKey as string)
  }

  run(runId: string): DoubleRun | undefined {
    return this.runs.get(runId)
  }

  /** Every event a run emitted, in order, whether or not a subscriber received it. */
  eventsOf(runId: string): EmittedEvent[] {
    return [...(this.runs.get(runId)?.emitted ?? [])]
  }

  /** Runs counted against the cap: queued, running, waiting for approval, stopping. */
  activeRunCount(): number {
    let n = 0
    for (const run of this.runs.values()) if (!run.terminal) n += 1
    return n
  }

  /** The idempotency lookup (§4.4): scope × key → the original run, or a conflict. */
  lookupIdempotent(
    key: string,
    fingerprint: string,
  ): { kind: 'none' } | { kind: 'replay'; run: DoubleRun } | { kind: 'conflict' } {
    const record = this.idempotency.get(this.scoped(key))
    if (!record) return { kind: 'none' }
    if (record.fingerprint !== fingerprint) return { kind: 'conflict' }
    const run = this.runs.get(record.runId)
    return run ? { kind: 'replay', run } : { kind: 'none' }
  }

  /** Admits a run (after every check passed) and starts its script. */
  admit(
    request: Omit<HermesRunRequest, 'runId' | 'sessionId'> & { sessionId?: string; fingerprint?: string },
  ): DoubleRun {
    const runId = `run_${randomBytes(16).toString('hex')}`
    const sessionId = request.sessionId ?? runId
    const run = new DoubleRun(
      runId,
      request.idempotencyKey,
      this.framing,
      sessionId,
      request.model ?? this.modelName,
      this.now,
      this.replayIdStart,
    )
    this.runs.set(runId, run)
    this.admitted.push(runId)
    if (request.idempotencyKey !== undefined && request.fingerprint !== undefined) {
      this.idempotency.set(this.scoped(request.idempotencyKey), { fingerprint: request.fingerprint, runId })
    }
    let steps
    try {
      steps = this.script({ ...request, runId, sessionId })
    } catch (err) {
      steps = [{ kind: 'fail' as const, error: `script error: ${(err as Error).message}` }]
    }
    void runScript(run, steps, request.input, this.faults)
    return run
  }

  /** Whether GET …/events may attach now (see `DoubleRun.canSubscribe`). */
  canSubscribe(run: DoubleRun): boolean {
    return run.canSubscribe(this.legacyStreamTtlMs, this.replayRetentionMs)
  }

  /** Fault: cuts the live event connections of one run (or of all runs). */
  dropStreams(runId?: string): void {
    for (const run of runId ? [this.runs.get(runId)] : [...this.runs.values()]) run?.dropConnections()
  }

  /** Fault: a gateway shutdown interrupts a live run: status `interrupted`, `run.interrupted` emitted. */
  interrupt(runId: string, error = SHUTDOWN_ERROR): void {
    const run = this.runs.get(runId)
    if (!run || run.terminal) return
    settle(run, { status: 'interrupted', error })
    run.abort.abort()
  }

  /**
   * Fault: the gateway restarts. Live connections are cut and in-memory state is lost: runs
   * without an Idempotency-Key vanish (404); idempotent ones that had not settled read back
   * `interrupted` with no event (§5.2 a). Idempotency records survive.
   */
  restart(): void {
    for (const [runId, run] of this.runs) {
      run.dropConnections()
      run.transportDropped = true
      if (run.idempotencyKey === undefined) {
        run.abort.abort()
        this.runs.delete(runId)
        continue
      }
      if (!run.terminal) {
        run.setStatus('interrupted', { error: RESTART_ERROR }, 'run.interrupted')
        run.close()
        run.abort.abort()
      }
    }
  }

  /** Ends every run's script and stream (the server is closing). */
  close(): void {
    for (const run of this.runs.values()) {
      run.dropConnections()
      run.abort.abort()
    }
  }

  /** SHA-256 fingerprint of canonical JSON of the body and the session-key header (§4.4). */
  static fingerprint(body: unknown, sessionKey: string): string {
    return createHash('sha256')
      .update(canonicalJson({ body, gateway_session_key: sessionKey }))
      .digest('hex')
  }

  private scoped(key: string): string {
    const scope = createHash('sha256')
      .update(`default\0${this.apiKey ?? ''}`)
      .digest('hex')
    return `${scope}:${key}`
  }
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    )
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}
