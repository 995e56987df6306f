import { realpathSync } from 'node:fs'
import { hostname } from 'node:os'
import { resolve } from 'node:path'
import type { RedisClient } from '../queue/connection.js'
import { pino } from 'pino'
import { z } from 'zod'
import { HarnessConfig, type HarnessConfigInput } from '../houses/harness-config.js'
import { resolveHouses, type HousePolicy } from '../houses/house-policy.js'
import { MemoryPatternStore, RedisPatternStore, type PatternStore } from '../intelligence/pattern-store.js'
import { adaptiveTimeout, predictFrom, type Prediction } from '../intelligence/predict.js'
import { FileAuditLog, RedisAuditLog, type AuditLog } from '../provenance/audit-log.js'
import { digestOf } from '../provenance/canonical-json.js'
import { IN_TOTO_PAYLOAD_TYPE, keyIdOf, signEnvelope } from '../provenance/dsse.js'
import { defaultKeyDir, KeyStore } from '../provenance/key-store.js'
import { trustedRouterKeys } from '../provenance/router-keys.js'
import { buildStatement, outputFacts } from '../provenance/statement.js'
import type { Logger } from '../logger.js'
import type { Evidence, ToolContext, ToolFault, ToolRunResult, ToolSpec } from '../tools/tool.js'
import type { KeyObject } from 'node:crypto'
import type { DsseEnvelope } from '../provenance/dsse.js'
import { attestApproval, callDigest, LegacyApproval, type Approval } from './approval.js'
import { MemoryCircuitBreaker, RedisCircuitBreaker, type CircuitBreaker } from './circuit-breaker.js'
import { defaultTools } from './default-tools.js'
import { didYouMean } from './did-you-mean.js'
import type { House } from './house.js'
import { Mode, ModeName } from './mode.js'
import { UNI_WIZARD_VERSION } from './package-version.js'
import {
  approvalNeeded,
  checkApproval,
  checkToolAllowed,
  type AcceptedApproval,
  type Denial,
} from './policy-check.js'
import { MemoryReadStore, RedisReadStore, type ReadStore } from './read-store.js'
import { capOutput, createRedactor, redactValue } from './redactor.js'
import type { ToolResult, ToolResultError, ToolStatus } from './tool-result.js'
import { faultOf } from './fault.js'
import { backoffDelay, isTransient } from './transient.js'

/** The Gitea port type as the tool contract declares it (unknown until the contract names one). */
type GiteaPortOf<C> = C extends { gitea?: infer G } ? G : unknown

/** How to build a Harness. Only `house` is required. */
export interface HarnessOptions {
  house: House
  /** Default: the house's configured mode. */
  mode?: Mode
  /** The harness sections of the YAML config (houses, tools, breaker, retry, output, keys, audit). */
  config?: HarnessConfigInput | HarnessConfig
  /** The tool registry. Default: the built-in catalogue. */
  tools?: readonly ToolSpec[]
  /** Shared breaker, read-before-write, pattern and audit state; memory/file without it. */
  redis?: RedisClient
  /** Key prefix in Redis (a cluster hash tag). Default `{uw}`. */
  redisPrefix?: string
  /** Default: config `keys.dir`, else `<UW_DATA_DIR>/keys`. */
  keyDir?: string
  /** JSONL audit file when Redis is not given. Default: config `audit.path`, else `<UW_DATA_DIR>/audit.jsonl`. */
  auditPath?: string
  log?: Logger
  /** Gitea port for the gitea_* tools; passed to tools as `ctx.gitea`. */
  gitea?: GiteaPortOf<ToolContext>
  /** More fields for every tool's context (allowlists and the like). */
  context?: Record<string, unknown>
  /** Secret values that must never appear in results or logs (tokens, webhook secrets). */
  secrets?: readonly (string | undefined)[]
  /**
   * Sign every result and append it to the audit log, not only in SOVEREIGN mode (which always
   * does). The bot sets it so every comment carries verifiable provenance.
   */
  sign?: boolean
  /**
   * House whose public key verifies legacy approvals (only with `keys.acceptLegacyApprovals`).
   * Default `timmy`. New approvals are router attestations and need no house key.
   */
  approvalKeyHouse?: string
  /**
   * Router public keys trusted for approval attestations, replacing config `keys.routerPublicKeys`
   * and the key directory's `_router.pub`.
   */
  routerKeys?: readonly KeyObject[]
  /** Replace the state stores (default: Redis-backed when `redis` is given, else in memory). */
  stores?: { breaker?: CircuitBreaker; reads?: ReadStore; patterns?: PatternStore; audit?: AuditLog }
  /** Clock and randomness, for tests. */
  now?: () => number
  random?: () => number
}

/** Per-call options. */
export interface ExecuteOptions {
  /** Who asked (a Gitea login, or a local user name). */
  requestedBy: string
  /** Aborting it cancels the call (status `cancelled`). */
  signal?: AbortSignal
  /** A sovereign's approval: a router attestation (from `/approve` or `harness.approve()`). */
  approval?: Approval
  /**
   * The job and run this call belongs to: an approval attestation must name the same ones, and the
   * job id is signed into provenance so a comment's job id can be checked.
   */
  job?: { id: string; runId?: string }
  /** The comment that asked, recorded in provenance. */
  requestUrl?: string
  /** The webhook delivery id, recorded in provenance. */
  deliveryId?: string
  /** Override the harness's mode for this call. */
  mode?: Mode
  /** For a `/retry`: the job retried and who asked for it first, signed into provenance. */
  retryOf?: { jobId: string; requestedBy: string }
  /**
   * The most output characters the result comment shows; a longer output also gets the digest of
   * the part shown signed, so a cut comment can be checked (see `outputFacts`).
   */
  shownOutputChars?: number
}

/** One call of `executeMany`. */
export interface ToolCall {
  tool: string
  args: unknown
  options: ExecuteOptions
}

const silentLog = pino({ level: 'silent' })

class AttemptAbort extends Error {
  constructor(readonly kind: 'timeout' | 'cancelled') {
    super(kind)
  }
}

/** `keys.legacyApprovalGraceSeconds` when unset: the default `commands.approvalTtlSeconds`, a day. */
export const DEFAULT_LEGACY_GRACE_SECONDS = 86_400

/**
 * Runs tools for one house under its policy and mode: argument parsing, house policy, approvals,
 * read-before-write, circuit breaker, per-attempt timeouts, retries of transient failures,
 * verification, redaction, output cap, provenance and audit. `execute` never throws for an
 * ordinary outcome; it resolves to a ToolResult.
 *
 * @example
 *   const h = new Harness({ house: House.BEZALEL, mode: Mode.INTELLIGENT, tools })
 *   const r = await h.execute('git_status', { repoPath }, { requestedBy: 'alice' })
 *   if (r.status !== 'success') console.log(r.error?.reason, r.error?.fix)
 */
export class Harness {
  readonly house: string
  readonly mode: Mode
  readonly policy: HousePolicy
  readonly config: HarnessConfig
  private readonly tools = new Map<string, ToolSpec>()
  private readonly log: Logger
  private readonly redact: (text: string) => string
  private readonly breaker: CircuitBreaker
  private readonly reads: ReadStore
  private readonly patterns: PatternStore
  private readonly workspaceRoots: string[]
  private readonly sign: boolean
  private readonly approvalKeyHouse: string
  private readonly givenRouterKeys: readonly KeyObject[] | undefined
  private routerTrust: { keys: KeyObject[]; problems: string[] } | undefined
  private readonly now: () => number
  private readonly random: () => number
  private readonly contextExtra: Record<string, unknown>
  private readonly keyDir: string
  private readonly auditPath: string
  private readonly redis: RedisClient | undefined
  private readonly redisPrefix: string
  private keyStore: KeyStore | undefined
  private auditLog: AuditLog | undefined

  constructor(options: HarnessOptions) {
    this.config = HarnessConfig.parse(options.config ?? {})
    const houses = resolveHouses(this.config.houses)
    const policy = houses[options.house]
    if (!policy) {
      throw new TypeError(`unknown house ${options.house} (known: ${Object.keys(houses).join(', ')})`)
    }
    this.house = options.house
    this.policy = policy
    this.mode = options.mode ? ModeName.parse(options.mode) : policy.mode
    for (const t of options.tools ?? defaultTools) {
      if (this.tools.has(t.name)) throw new TypeError(`tool ${t.name} is registered twice`)
      this.tools.set(t.name, t)
    }
    this.log = (options.log ?? silentLog).child({ house: this.house })
    this.redact = createRedactor(options.secrets ?? [])
    this.redis = options.redis
    this.redisPrefix = options.redisPrefix ?? '{uw}'
    this.breaker = options.stores?.breaker
      ? options.stores.breaker
      : options.redis
        ? new RedisCircuitBreaker(options.redis, this.config.breaker, this.redisPrefix)
        : new MemoryCircuitBreaker(this.config.breaker)
    this.reads =
      options.stores?.reads ??
      (options.redis ? new RedisReadStore(options.redis, this.redisPrefix) : new MemoryReadStore())
    this.patterns =
      options.stores?.patterns ??
      (options.redis ? new RedisPatternStore(options.redis, this.redisPrefix) : new MemoryPatternStore())
    this.auditLog = options.stores?.audit
    const roots = policy.workspaceRoots.length > 0 ? policy.workspaceRoots : [process.cwd()]
    this.workspaceRoots = roots.map((r) => {
      try {
        return realpathSync(resolve(r))
      } catch {
        return resolve(r) // a root that does not exist yet confines just the same
      }
    })
    this.sign = options.sign ?? false
    this.approvalKeyHouse = options.approvalKeyHouse ?? 'timmy'
    this.givenRouterKeys = options.routerKeys
    this.now = options.now ?? Date.now
    this.random = options.random ?? Math.random
    this.contextExtra = { ...options.context, ...(options.gitea ? { gitea: options.gitea } : {}) }
    const dataDir = process.env.UW_DATA_DIR || '.data'
    this.keyDir = resolve(options.keyDir ?? this.config.keys.dir ?? defaultKeyDir(dataDir))
    this.auditPath = resolve(options.auditPath ?? this.config.audit.path ?? resolve(dataDir, 'audit.jsonl'))
  }

  /** The house keys (created on first use). */
  get keys(): KeyStore {
    this.keyStore ??= new KeyStore(this.keyDir)
    return this.keyStore
  }

  /** The audit log results are appended to: the Redis stream when Redis is given, else the JSONL file. */
  get audit(): AuditLog {
    this.auditLog ??= this.redis
      ? new RedisAuditLog(this.redis, this.redisPrefix)
      : new FileAuditLog(this.auditPath)
    return this.auditLog
  }

  /** Every registered tool, in registration order. */
  listTools(): ToolSpec[] {
    return [...this.tools.values()]
  }

  /**
   * Attests a sovereign's approval of one exact call in this house, signed with the router key of
   * the key directory (`_router.key`, created on first use): a library caller is its own router.
   * Does not check that the approver is a sovereign: `execute` does, so the refusal has one place.
   * This never loads a house private key.
   *
   * @example
   *   const approval = h.approve('git_push', { repoPath }, { approver: 'alice', ttlMs: 15 * 60_000 })
   *   await h.execute('git_push', { repoPath }, { requestedBy: 'bob', approval })
   */
  approve(
    tool: string,
    args: unknown,
    input: {
      approver: string
      ttlMs?: number
      expiresAt?: Date
      job?: { id: string; runId?: string }
      comment?: { id?: number; url: string }
    },
  ): DsseEnvelope {
    const spec = this.tools.get(tool)
    if (!spec) throw new TypeError(`unknown tool ${tool}`)
    const parsed = spec.args.parse(args)
    const envelope = attestApproval(this.keys.router(), {
      approver: input.approver,
      house: this.house,
      digest: callDigest(tool, parsed),
      jobId: input.job?.id,
      runId: input.job?.runId,
      comment: input.comment,
      ttlMs: input.ttlMs,
      expiresAt: input.expiresAt,
      now: new Date(this.now()),
    })
    this.routerTrust = undefined // a router key made just now is trusted from now on
    return envelope
  }

  /**
   * The router keys this harness trusts for approvals, and why a configured one is not trusted.
   * The first time the key directory trusts one, it records so (`_router.created`, once): from
   * then on the worker has been upgraded, which bounds the legacy approvals it still accepts.
   */
  routerKeys(): { keys: KeyObject[]; problems: string[] } {
    if (this.givenRouterKeys) return { keys: [...this.givenRouterKeys], problems: [] }
    // Cached once a key is found; looked up again while none is (it may be copied in later).
    if (this.routerTrust && this.routerTrust.keys.length > 0) return this.routerTrust
    const configured = this.config.keys.routerPublicKeys
    this.routerTrust = trustedRouterKeys(this.keys, configured)
    if (this.routerTrust.keys.length > 0 && !this.keys.routerKeyRecord()) {
      // `_router.pub` copied in by an operator is dated by its file (never later than now).
      const copied = configured?.length ? undefined : this.keys.routerPublicKeyTime()
      this.keys.recordRouterKey(copied)
    }
    return this.routerTrust
  }

  /**
   * The upgrade window for legacy approvals signed by `legacyKey`: they count while they expire no
   * later than `_router.created` plus `keys.legacyApprovalGraceSeconds`, and only when that key
   * was already in the directory when the record was made (so an install that never had legacy
   * approvals accepts none).
   */
  private legacyWindow(legacyKey: KeyObject | undefined): { notAfter: number; since: string } | undefined {
    const record = this.keys.routerKeyRecord()
    if (!record || !legacyKey || !record.houseKeyids.includes(keyIdOf(legacyKey))) return undefined
    const grace = this.config.keys.legacyApprovalGraceSeconds ?? DEFAULT_LEGACY_GRACE_SECONDS
    return { notAfter: Date.parse(record.since) + grace * 1000, since: record.since }
  }

  /**
   * Predicts a call from this house's past outcomes of the tool (memory, or Redis when given).
   *
   * @example
   *   const p = await h.predict('git_status', { repoPath })
   *   // { successProbability: 0.93, interval: [0.81, 0.99], expectedDurationMs: 41, samples: 27, … }
   */
  async predict(tool: string, args: unknown): Promise<Prediction & { adaptiveTimeoutMs?: number }> {
    const spec = this.tools.get(tool)
    if (!spec) throw new TypeError(`unknown tool ${tool}`)
    spec.args.parse(args)
    const prediction = predictFrom(await this.patterns.recent(this.house, tool))
    const adaptive = adaptiveTimeout(prediction, this.configuredTimeout(spec))
    return adaptive === undefined ? prediction : { ...prediction, adaptiveTimeoutMs: adaptive }
  }

  /**
   * Runs several calls, at most `concurrency` at a time (default: the house's concurrency).
   * Resolves to the results in call order.
   */
  async executeMany(calls: readonly ToolCall[], opts: { concurrency?: number } = {}): Promise<ToolResult[]> {
    const limit = Math.max(1, opts.concurrency ?? this.policy.concurrency)
    const results: ToolResult[] = new Array(calls.length)
    let next = 0
    const worker = async () => {
      while (next < calls.length) {
        const i = next++
        const call = calls[i] as ToolCall
        results[i] = await this.execute(call.tool, call.args, call.options)
      }
    }
    await Promise.all(Array.from({ length: Math.min(limit, calls.length) }, worker))
    return results
  }

  /** Closes the audit file. The Redis connection belongs to the caller. */
  async close(): Promise<void> {
    await this.auditLog?.close()
  }

  /**
   * Runs one tool call under the house's policy. Resolves to a ToolResult for every ordinary
   * outcome (bad args, denial, failure, timeout, cancel); throws only on programming errors.
   */
  async execute(toolName: string, rawArgs: unknown, options: ExecuteOptions): Promise<ToolResult> {
    const started = this.now()
    const t0 = performance.now()
    const mode = options.mode ? ModeName.parse(options.mode) : this.mode
    const run = new RunState(toolName, mode, options, started, t0)
    const spec = this.tools.get(toolName)
    if (!spec) {
      const guess = didYouMean(toolName, [...this.tools.keys()])
      return this.finish(run, 'failure', {
        rule: 'unknown-tool',
        reason: `unknown tool ${toolName}${guess ? `; did you mean ${guess}?` : ''}`,
        fix: '`uni-wizard tools` lists every tool',
      })
    }
    const allowed = checkToolAllowed(this.policy, spec)
    if (allowed) return this.finish(run, 'denied', allowed)

    const parsed = spec.args.safeParse(rawArgs)
    if (!parsed.success) {
      return this.finish(run, 'failure', {
        rule: 'bad-args',
        reason: `bad arguments for ${spec.name}: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`,
        fix: `\`uni-wizard tools\` shows the arguments of ${spec.name}`,
      })
    }
    const args = parsed.data
    run.argsDigest = callDigest(spec.name, args)
    const ctx = this.context(options.signal ?? new AbortController().signal)

    if (approvalNeeded(this.policy, mode, spec)) {
      const trust = options.approval === undefined ? { keys: [], problems: [] } : this.routerKeys()
      const legacy = LegacyApproval.safeParse(options.approval).success
      const legacyKey = legacy ? this.keys.publicKey(this.approvalKeyHouse) : undefined
      const checked = checkApproval({
        policy: this.policy,
        mode,
        tool: spec,
        digest: run.argsDigest,
        requestedBy: options.requestedBy,
        approval: options.approval,
        routerKeys: trust.keys,
        routerKeyProblems: trust.problems,
        acceptLegacy: this.config.keys.acceptLegacyApprovals,
        legacyKey,
        legacyWindow: legacy ? this.legacyWindow(legacyKey) : undefined,
        job: options.job,
        now: this.now(),
      })
      if ('denial' in checked) return this.finish(run, 'denied', checked.denial)
      run.approvals.push(checked.accepted)
    }

    const target = this.policy.readBeforeWrite ? safeTarget(spec, args, ctx) : undefined
    if (target !== undefined && spec.access === 'write') {
      const denial = await this.checkReadBeforeWrite(spec, args, ctx, target)
      if (denial) return this.finish(run, 'denied', denial)
    }

    let prediction: Prediction | undefined
    let timeoutMs = this.configuredTimeout(spec)
    if (mode === Mode.INTELLIGENT) {
      try {
        prediction = predictFrom(await this.patterns.recent(this.house, spec.name))
        run.prediction = prediction
        timeoutMs = adaptiveTimeout(prediction, timeoutMs) ?? timeoutMs
      } catch (err) {
        run.mode = Mode.SIMPLE
        run.notes.push(`INTELLIGENT mode degraded to SIMPLE: pattern store unavailable (${errText(err)})`)
      }
    }

    const breakerKey = `${this.house}:${spec.name}`
    const gate = await this.breaker.acquire(breakerKey, this.now())
    if (!gate.allowed) {
      return this.finish(run, 'failure', {
        rule: 'circuit-open',
        reason: `circuit for ${spec.name} in house ${this.house} is ${gate.state} until ${new Date(gate.retryAt).toISOString()} after repeated failures`,
        fix: 'wait for the cool-down; one probe call then decides whether it closes',
      })
    }

    const outcome = await this.attempts(spec, args, ctx, options.signal, timeoutMs, run)
    let status: ToolStatus = outcome.status
    let error = outcome.error
    if (status === 'success' && outcome.result) {
      run.evidence = await this.collectEvidence(spec, args, outcome.result, ctx, timeoutMs, run)
      if (!run.evidence && this.policy.proofRequired) {
        status = 'unverified'
        error = {
          rule: 'proof-required',
          reason: `${spec.name} ran but produced no evidence that its effect happened`,
          fix: `house ${this.house} requires proof; check the result by hand or use a tool with a verification`,
        }
      }
      if (target !== undefined) await this.rememberTarget(spec, args, ctx, target, outcome.result, run)
    }
    if (status !== 'cancelled') {
      const ok = status === 'success' || status === 'unverified'
      // A failure the caller caused (no such file, bad regex...) says nothing about the tool: it
      // must not let one writer switch the tool off for everyone (src/harness/fault.ts).
      const counted =
        ok || outcome.fault !== 'caller'
          ? this.breaker.record(breakerKey, ok, gate.probe, this.now())
          : this.breaker.release(breakerKey, gate.probe, this.now())
      await counted.catch((err: unknown) => {
        run.notes.push(`circuit breaker state not recorded: ${errText(err)}`)
      })
      if (run.mode === Mode.INTELLIGENT) {
        await this.patterns
          .record(this.house, spec.name, { ok, durationMs: performance.now() - t0 })
          .catch((err: unknown) => run.notes.push(`outcome not learned: ${errText(err)}`))
      }
    }
    run.result = outcome.result
    return this.finish(run, status, error)
  }

  private configuredTimeout(spec: ToolSpec): number {
    return this.policy.timeouts[spec.name] ?? this.policy.timeouts.default ?? spec.timeoutMs
  }

  private context(signal: AbortSignal): ToolContext {
    return {
      ...this.contextExtra,
      signal,
      house: this.house,
      workspaceRoots: this.workspaceRoots,
      log: this.log,
    } as ToolContext
  }

  private async attempts(
    spec: ToolSpec,
    args: unknown,
    baseCtx: ToolContext,
    callerSignal: AbortSignal | undefined,
    timeoutMs: number,
    run: RunState,
  ): Promise<{ status: ToolStatus; result?: ToolRunResult; error?: ToolResultError; fault?: ToolFault }> {
    const retry = this.config.retry
    for (let attempt = 1; ; attempt++) {
      run.attempts = attempt
      if (callerSignal?.aborted) return cancelled(spec)
      try {
        const result = await withDeadline(timeoutMs, callerSignal, (signal) =>
          spec.run(args, { ...baseCtx, signal }),
        )
        return { status: 'success', result }
      } catch (err) {
        if (err instanceof AttemptAbort) {
          if (err.kind === 'cancelled') return cancelled(spec)
          return {
            status: 'timeout',
            error: {
              rule: 'timeout',
              reason: `${spec.name} did not finish within ${timeoutMs} ms (attempt ${attempt}); it was stopped`,
              fix: `raise houses.${this.house}.timeouts.${spec.name} if it is expected to take longer`,
            },
          }
        }
        const transient = isTransient(err)
        if (!transient || attempt >= retry.maxAttempts) {
          return {
            status: 'failure',
            fault: faultOf(err),
            error: {
              rule: transient ? 'transient-failure' : 'tool-failure',
              reason: `${spec.name} failed${attempt > 1 ? ` after ${attempt} attempts` : ''}: ${errText(err)}`,
              transient,
            },
          }
        }
        const delay = backoffDelay(attempt, retry, this.random)
        this.log.warn(
          { tool: spec.name, attempt, delayMs: delay, err: this.redact(errText(err)) },
          'transient failure, retrying',
        )
        if (!(await sleep(delay, callerSignal))) return cancelled(spec)
      }
    }
  }

  private async collectEvidence(
    spec: ToolSpec,
    args: unknown,
    result: ToolRunResult,
    ctx: ToolContext,
    timeoutMs: number,
    run: RunState,
  ): Promise<Evidence | undefined> {
    try {
      const evidence = await withDeadline(timeoutMs, undefined, (signal) =>
        spec.verify(args, result, { ...ctx, signal }),
      )
      return evidence ? redactValue(evidence, this.redact) : undefined
    } catch (err) {
      run.notes.push(`verification failed: ${errText(err)}`)
      return undefined
    }
  }

  private async checkReadBeforeWrite(
    spec: ToolSpec,
    args: unknown,
    ctx: ToolContext,
    target: string,
  ): Promise<Denial | undefined> {
    const record = await this.reads.get(this.house, target)
    if (!record) {
      return {
        rule: 'read-before-write',
        reason: `house ${this.house} has not read ${target} before writing it`,
        fix: `read ${target} first with a read tool in house ${this.house}, then write`,
      }
    }
    let current: string | undefined
    try {
      current = spec.targetDigest ? await spec.targetDigest(args, ctx) : undefined
    } catch (err) {
      return {
        rule: 'read-before-write',
        reason: `cannot read the current state of ${target}: ${errText(err)}`,
        fix: 'make the target readable, read it again, then write',
      }
    }
    if (!spec.targetDigest) {
      return {
        rule: 'read-before-write',
        reason: `${spec.name} cannot report the current digest of ${target}, so a change since the read cannot be ruled out`,
        fix: `run ${spec.name} in a house without readBeforeWrite, or give the tool a targetDigest`,
      }
    }
    if (current !== record.digest) {
      return {
        rule: 'read-before-write',
        reason: `${target} changed since read at ${record.at}`,
        fix: `read ${target} again, review the change, then write`,
      }
    }
    return undefined
  }

  private async rememberTarget(
    spec: ToolSpec,
    args: unknown,
    ctx: ToolContext,
    target: string,
    result: ToolRunResult,
    run: RunState,
  ): Promise<void> {
    try {
      // After a read: what was seen. After our own write: what we wrote, so a second write needs no re-read.
      const digest =
        result.targetDigest ??
        (spec.access === 'read' && spec.targetDigest ? await spec.targetDigest(args, ctx) : undefined)
      if (digest !== undefined) {
        await this.reads.set(this.house, target, { digest, at: new Date(this.now()).toISOString() })
      }
    } catch (err) {
      run.notes.push(`read of ${target} not recorded: ${errText(err)}`)
    }
  }

  private async finish(run: RunState, status: ToolStatus, error?: ToolResultError): Promise<ToolResult> {
    const redact = this.redact
    const raw = run.result?.output ?? ''
    const capped = capOutput(redact(raw), this.config.output.maxBytes)
    const safeError = error
      ? { ...error, reason: redact(error.reason), ...(error.fix ? { fix: redact(error.fix) } : {}) }
      : undefined
    const finished = this.now()
    const out = outputFacts(capped.text, run.options.shownOutputChars)
    const statement = buildStatement({
      outputSha256: out.sha256,
      predicate: {
        requestedBy: run.options.requestedBy,
        house: this.house,
        mode: run.mode,
        tool: run.tool,
        argsDigest: run.argsDigest ?? digestOf(null),
        approvals: run.approvals,
        host: HOST,
        versions: { uniWizard: UNI_WIZARD_VERSION, node: process.versions.node },
        startedAt: new Date(run.started).toISOString(),
        finishedAt: new Date(finished).toISOString(),
        attempts: run.attempts,
        status,
        evidence: run.evidence ? [run.evidence] : [],
        requestUrl: run.options.requestUrl,
        deliveryId: run.options.deliveryId,
        error: safeError?.reason,
        jobId: run.options.job?.id,
        retryOf: run.options.retryOf,
        output: out.output,
      },
    })
    const result: ToolResult = {
      tool: run.tool,
      house: this.house,
      mode: run.mode,
      status,
      output: capped.text,
      truncatedBytes: capped.cutBytes,
      provenance: { statement },
      durationMs: 0,
      attempts: run.attempts,
      notes: run.notes,
    }
    if (run.result?.data !== undefined) result.data = redactValue(run.result.data, redact)
    if (run.evidence) result.evidence = run.evidence
    if (safeError) result.error = safeError
    if (run.prediction) result.prediction = run.prediction

    if (this.sign || run.mode === Mode.SOVEREIGN) {
      try {
        const key = this.keys.get(this.house)
        const envelope = signEnvelope(
          Buffer.from(JSON.stringify(statement)),
          IN_TOTO_PAYLOAD_TYPE,
          key.privateKey,
        )
        result.provenance.envelope = envelope
        const entry = await this.audit.append(envelope, new Date(finished))
        result.provenance.audit = { seq: entry.seq, digest: entry.digest }
      } catch (err) {
        run.notes.push(`provenance not signed or not audited: ${redact(errText(err))}`)
        this.log.error({ tool: run.tool, err: redact(errText(err)) }, 'provenance failed')
      }
    }
    result.durationMs = performance.now() - run.t0
    if (this.log.isLevelEnabled('info')) {
      this.log.info(
        {
          tool: run.tool,
          status,
          attempts: run.attempts,
          durationMs: Math.round(result.durationMs),
          requestedBy: run.options.requestedBy,
          deliveryId: run.options.deliveryId,
          rule: safeError?.rule,
          reason: safeError?.reason,
        },
        'tool finished',
      )
    }
    return result
  }
}

const HOST = hostname()

/** Mutable bookkeeping for one execute call. */
class RunState {
  argsDigest: string | undefined
  approvals: AcceptedApproval[] = []
  attempts = 0
  evidence: Evidence | undefined
  prediction: Prediction | undefined
  result: ToolRunResult | undefined
  notes: string[] = []
  mode: Mode

  constructor(
    readonly tool: string,
    mode: Mode,
    readonly options: ExecuteOptions,
    readonly started: number,
    readonly t0: number,
  ) {
    this.mode = mode
  }
}

function cancelled(spec: ToolSpec): { status: ToolStatus; error: ToolResultError } {
  return {
    status: 'cancelled',
    error: { rule: 'cancelled', reason: `${spec.name} was cancelled by the caller` },
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function safeTarget(spec: ToolSpec, args: unknown, ctx: ToolContext): string | undefined {
  try {
    return spec.target(args, ctx)
  } catch {
    return undefined
  }
}

/**
 * Runs `fn` with a signal that aborts after `timeoutMs` or when the caller's signal aborts, and
 * settles as soon as either happens even if `fn` ignores the signal. A plain timer (not
 * AbortSignal.timeout) so it is cleared the moment the attempt ends.
 */
async function withDeadline<T>(
  timeoutMs: number,
  callerSignal: AbortSignal | undefined,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController()
  let rejectAbort: (e: AttemptAbort) => void = () => undefined
  const aborted = new Promise<never>((_, reject) => {
    rejectAbort = reject
  })
  const onTimeout = () => {
    const e = new AttemptAbort('timeout')
    controller.abort(e)
    rejectAbort(e)
  }
  const onCaller = () => {
    const e = new AttemptAbort('cancelled')
    controller.abort(e)
    rejectAbort(e)
  }
  const timer = setTimeout(onTimeout, timeoutMs)
  callerSignal?.addEventListener('abort', onCaller, { once: true })
  try {
    return await Promise.race([fn(controller.signal), aborted])
  } finally {
    clearTimeout(timer)
    callerSignal?.removeEventListener('abort', onCaller)
  }
}

/** Sleeps; resolves false when the signal aborts first. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false)
  return new Promise((resolvePromise) => {
    const done = (ok: boolean) => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      resolvePromise(ok)
    }
    const onAbort = () => done(false)
    const timer = setTimeout(() => done(true), ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
