import { realpathSync } from 'node:fs'
import { resolve } from 'node:path'
import type { KeyObject } from 'node:crypto'
import type { RedisClient } from '../queue/connection.js'
import { pino } from 'pino'
import { z } from 'zod'
import { HarnessConfig } from '../houses/harness-config.js'
import { resolveHouses, type HousePolicy } from '../houses/house-policy.js'
import { argShape } from '../intelligence/arg-shape.js'
import type { FailureKind } from '../intelligence/failure-kind.js'
import { decayOf } from '../intelligence/intelligence-config.js'
import { MemoryPatternStore, RedisPatternStore } from '../intelligence/pattern-store.js'
import { adaptiveTimeout, predictCall, type Prediction } from '../intelligence/predict.js'
import type { Logger } from '../logger.js'
import { FileAuditLog, RedisAuditLog, type AuditLog } from '../provenance/audit-log.js'
import type { DsseEnvelope } from '../provenance/dsse.js'
import { defaultKeyDir, KeyStore } from '../provenance/key-store.js'
import type { ToolContext, ToolSpec } from '../tools/tool.js'
import { toolsConfigOf, type ToolsConfig } from '../tools/tools-config.js'
import { ApprovalGate } from './approvals/approval-gate.js'
import { attestApproval, callDigest } from './approvals/approval.js'
import { runAttempts, type AttemptDeps } from './attempts/attempts.js'
import { acquireGate, recordGate, type BreakerGateDeps } from './attempts/breaker-gate.js'
import { MemoryCircuitBreaker, RedisCircuitBreaker } from './attempts/circuit-breaker.js'
import { defaultTools } from './default-tools.js'
import { didYouMean } from './did-you-mean.js'
import { errText } from './err-text.js'
import { collectEvidence } from './evidence.js'
import { finishResult, type FinishDeps } from './finish-result.js'
import type { ExecuteOptions, HarnessOptions, TaskRecord, ToolCall } from './harness-options.js'
import { learnOutcome, predictTimeout, retryRule, type IntelligentModeDeps } from './intelligent-mode.js'
import { Mode, ModeName } from './mode.js'
import { approvalNeeded, checkToolAllowed } from './policy-check.js'
import {
  checkReadBeforeWrite,
  rememberTarget,
  safeTarget,
  type ReadBeforeWriteDeps,
} from './read-before-write.js'
import { MemoryReadStore, RedisReadStore } from './read-store.js'
import { createRedactor } from './redactor.js'
import { RunState } from './run-state.js'
import type { ToolResult, ToolResultError, ToolStatus } from './tool-result.js'
import { fillBranchPrefix } from '../tools/git/branch-prefix.js'

export { DEFAULT_LEGACY_GRACE_SECONDS } from './approvals/approval-gate.js'
export type { ExecuteOptions, HarnessOptions, TaskRecord, ToolCall } from './harness-options.js'

const silentLog = pino({ level: 'silent' })

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
  private readonly workspaceRoots: string[]
  private readonly now: () => number
  private readonly contextExtra: Record<string, unknown>
  private readonly keyDir: string
  private readonly auditPath: string
  private readonly redis: RedisClient | undefined
  private readonly redisPrefix: string
  private keyStore: KeyStore | undefined
  private auditLog: AuditLog | undefined
  // What each stage of `execute` needs, given explicitly rather than as the whole harness.
  private readonly approvals: ApprovalGate
  private readonly attemptDeps: AttemptDeps
  private readonly gateDeps: BreakerGateDeps
  private readonly readDeps: ReadBeforeWriteDeps
  private readonly learning: IntelligentModeDeps
  private readonly finishDeps: FinishDeps

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
    const redact = createRedactor(options.secrets ?? [])
    this.redact = redact
    this.redis = options.redis
    this.redisPrefix = options.redisPrefix ?? '{uw}'
    const breaker = options.stores?.breaker
      ? options.stores.breaker
      : options.redis
        ? new RedisCircuitBreaker(options.redis, this.config.breaker, this.redisPrefix)
        : new MemoryCircuitBreaker(this.config.breaker)
    const reads =
      options.stores?.reads ??
      (options.redis ? new RedisReadStore(options.redis, this.redisPrefix) : new MemoryReadStore())
    const decay = decayOf(this.config.intelligence)
    this.now = options.now ?? Date.now
    const patterns =
      options.stores?.patterns ??
      (options.redis
        ? new RedisPatternStore(options.redis, this.redisPrefix, decay, this.now)
        : new MemoryPatternStore(decay, this.now))
    this.auditLog = options.stores?.audit
    const roots = policy.workspaceRoots.length > 0 ? policy.workspaceRoots : [process.cwd()]
    this.workspaceRoots = roots.map(realRoot)
    this.contextExtra = { ...options.context, ...(options.gitea ? { gitea: options.gitea } : {}) }
    const dataDir = process.env.UW_DATA_DIR || '.data'
    this.keyDir = resolve(options.keyDir ?? this.config.keys.dir ?? defaultKeyDir(dataDir))
    this.auditPath = resolve(options.auditPath ?? this.config.audit.path ?? resolve(dataDir, 'audit.jsonl'))
    const { house, log, now } = this
    this.approvals = new ApprovalGate({
      policy,
      keysConfig: this.config.keys,
      keys: () => this.keys,
      approvalKeyHouse: options.approvalKeyHouse ?? 'timmy',
      givenRouterKeys: options.routerKeys,
      now,
    })
    this.attemptDeps = { house, retry: this.config.retry, random: options.random ?? Math.random, log, redact }
    this.gateDeps = { breaker, house, now }
    this.readDeps = { reads, house, now }
    this.learning = {
      patterns,
      house,
      config: this.config.intelligence,
      now,
      ...(options.stress ? { stress: options.stress } : {}),
    }
    this.finishDeps = {
      house,
      redact,
      maxOutputBytes: this.config.output.maxBytes,
      now,
      sign: options.sign ?? false,
      signingKey: () => this.keys.get(house).privateKey,
      audit: () => this.audit,
      log,
    }
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
    this.approvals.forgetRouterKeys() // a router key made just now is trusted from now on
    return envelope
  }

  /**
   * The router keys this harness trusts for approvals, and why a configured one is not trusted.
   * The first time the key directory trusts one, it records so (`_router.created`, once): from
   * then on the worker has been upgraded, which bounds the legacy approvals it still accepts.
   */
  routerKeys(): { keys: KeyObject[]; problems: string[] } {
    return this.approvals.routerKeys()
  }

  /**
   * Predicts a call from this house's past outcomes of the tool with arguments of the same shape
   * (or of the tool as a whole, when those are too few): memory, or Redis when given.
   *
   * @example
   *   const p = await h.predict('git_status', { repoPath })
   *   // { successProbability: 0.93, interval: [0.81, 0.98], medianMs: 41, p90Ms: 60, samples: 27, … }
   */
  async predict(tool: string, args: unknown): Promise<Prediction & { adaptiveTimeoutMs?: number }> {
    const spec = this.tools.get(tool)
    if (!spec) throw new TypeError(`unknown tool ${tool}`)
    const parsed = spec.args.parse(args)
    const read = await this.learning.patterns.read({ house: this.house, tool, shape: argShape(parsed) })
    const prediction = predictCall(read, { now: this.now(), config: this.config.intelligence })
    const adaptive = adaptiveTimeout(
      prediction,
      this.configuredTimeout(spec),
      this.config.intelligence.timeout,
    )
    return adaptive === undefined ? prediction : { ...prediction, adaptiveTimeoutMs: adaptive.timeoutMs }
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
   * The stages, in order (docs/HARNESS.md, "What `execute` does"): tool and arguments, house
   * policy, approval, read-before-write, adaptive timeout, circuit breaker, attempts, evidence,
   * then the signed result.
   */
  async execute(toolName: string, rawArgs: unknown, options: ExecuteOptions): Promise<ToolResult> {
    const started = this.now()
    const t0 = performance.now()
    const mode = options.mode ? ModeName.parse(options.mode) : this.mode
    const run = new RunState(toolName, mode, options, started, t0)
    const spec = this.tools.get(toolName)
    if (!spec) return this.finish(run, 'failure', this.unknownTool(toolName))
    const allowed = checkToolAllowed(this.policy, spec)
    if (allowed) return this.refuse(run, 'denied', allowed)

    const parsed = spec.args.safeParse(rawArgs)
    if (!parsed.success) return this.refuse(run, 'failure', badArgs(spec, parsed.error))
    const args = parsed.data
    run.argsDigest = callDigest(spec.name, args)
    const ctx = this.context(
      options.signal ?? new AbortController().signal,
      options.workspaceRoots && options.workspaceRoots.length > 0
        ? options.workspaceRoots.map(realRoot)
        : this.workspaceRoots,
      this.narrowedPrefix(options.branchPrefix, run.notes),
      options.gitOrigin,
    )

    const approval = { spec, digest: run.argsDigest, mode, options }
    const unapproved = this.approvals.check(approval, run.approvals)
    if (unapproved) return this.refuse(run, 'denied', unapproved)

    const target = this.policy.readBeforeWrite ? safeTarget(spec, args, ctx) : undefined
    const onTarget = target === undefined ? undefined : { spec, args, ctx, target }
    if (onTarget && spec.access === 'write') {
      const denial = await checkReadBeforeWrite(this.readDeps, onTarget)
      if (denial) return this.refuse(run, 'denied', denial)
    }

    const timeoutMs = await predictTimeout(this.learning, spec, args, run, this.configuredTimeout(spec))
    const passed = await acquireGate(this.gateDeps, spec)
    if ('error' in passed) return this.finish(run, 'failure', passed.error)

    const outcome = await runAttempts(
      this.attemptDeps,
      { spec, args, ctx, signal: options.signal, timeoutMs, mayRetry: retryRule(this.learning, run) },
      run,
    )
    let status: ToolStatus = outcome.status
    let error = outcome.error
    if (status === 'success' && outcome.result) {
      const call = { spec, args, result: outcome.result, ctx, timeoutMs }
      run.evidence = await collectEvidence(call, this.redact, run.notes)
      if (!run.evidence && this.policy.proofRequired) {
        status = 'unverified'
        error = this.noProof(spec)
      }
      if (onTarget) await rememberTarget(this.readDeps, onTarget, outcome.result, run.notes)
      if (status === 'success' && options.proof) {
        const proved = await this.extraProof(run, options)
        status = proved.status
        error = proved.error
      }
    }
    if (status !== 'cancelled') {
      const ok = status === 'success' || status === 'unverified'
      await recordGate(this.gateDeps, passed.gate, { ok, fault: outcome.fault }, run.notes)
      await learnOutcome(this.learning, { tool: spec.name, args }, run, {
        ok,
        ...(ok ? {} : { kind: outcome.kind ?? 'tool' }),
      })
    }
    run.result = outcome.result
    return this.finish(run, status, error)
  }

  /**
   * Signs an agent task's outcome the way `execute` signs a tool's (docs/AGENTS.md): the answer or
   * summary is the output (redacted and capped like a tool's), the task's evidence and proof are
   * signed, and `agent` pins the backend, model, run id, prompt, event log, diff and pull request.
   * Every tool call the task made was its own `execute` with its own result; this is the record
   * of the whole. Signed and audited like any result of a house that signs.
   *
   * @example
   *   const result = await harness.recordTask({ tool: 'agent.ask', startedAt, status: 'success',
   *     output: answer, argsDigest, evidence: [], agent: facts }, { requestedBy: 'alice', job })
   */
  async recordTask(task: TaskRecord, options: ExecuteOptions): Promise<ToolResult> {
    const mode = options.mode ? ModeName.parse(options.mode) : this.mode
    const run = new RunState(task.tool, mode, options, task.startedAt, task.t0 ?? performance.now())
    run.argsDigest = task.argsDigest
    run.attempts = task.attempts ?? 1
    run.moreEvidence = [...task.evidence]
    if (task.proof && task.proof.length > 0) run.proof = [...task.proof]
    run.agent = task.agent
    run.notes.push(...(task.notes ?? []))
    // The task's own approval, as its first call checked it (a task is gated like a read).
    const asRead = { name: task.tool, access: 'read' } as ToolSpec
    const denied = this.approvals.check(
      { spec: asRead, digest: task.argsDigest, mode, options },
      run.approvals,
    )
    if (denied) run.notes.push(`the task's approval was not accepted: ${denied.reason}`)
    run.result = { output: task.output }
    if (task.status !== 'cancelled') {
      const ok = task.status === 'success' || task.status === 'unverified'
      const kind: FailureKind =
        task.status === 'timeout'
          ? 'timeout'
          : task.status === 'denied'
            ? 'policy'
            : task.error?.transient
              ? 'busy'
              : 'tool'
      await learnOutcome(this.learning, { tool: task.tool }, run, ok ? { ok } : { ok, kind })
    }
    return this.finish(run, task.status, task.error)
  }

  /**
   * The branch prefix this house pushes under, `{house}` filled in: `asked` (a repository's
   * `.uni-wizard.yaml`) when it narrows the configured one, else the configured one.
   *
   * @example
   *   harness.branchPrefix() // 'uw/bezalel/'
   */
  branchPrefix(asked?: string): string {
    const configured = toolsConfigOf(this.contextExtra as { toolConfig?: ToolsConfig }).git.branchPrefix
    return fillBranchPrefix(this.narrowedPrefix(asked, []) ?? configured, this.house)
  }

  /**
   * Whether a call of the tool needs a sovereign's approval under the house's policy and mode
   * (before any task exemption): an implementation asks for one before it pushes.
   */
  needsApproval(toolName: string, mode?: Mode): boolean {
    const spec = this.tools.get(toolName)
    return spec !== undefined && approvalNeeded(this.policy, mode ?? this.mode, spec)
  }

  /** Whether the house's policy lets it run a tool at all (its globs, read-only houses). */
  allows(toolName: string): boolean {
    const spec = this.tools.get(toolName)
    return spec !== undefined && checkToolAllowed(this.policy, spec) === undefined
  }

  /** The text with every configured secret (and its encodings) redacted, as results are. */
  redactText(text: string): string {
    return this.redact(text)
  }

  private finish(run: RunState, status: ToolStatus, error?: ToolResultError): Promise<ToolResult> {
    return finishResult(this.finishDeps, run, status, error)
  }

  /**
   * A call refused before it ran (policy, bad arguments): INTELLIGENT mode counts its kind, not a
   * run (docs/INTELLIGENCE.md), then it finishes as usual.
   */
  private async refuse(run: RunState, status: ToolStatus, error: ToolResultError): Promise<ToolResult> {
    const kind: FailureKind = status === 'denied' ? 'policy' : 'validation'
    await learnOutcome(this.learning, { tool: run.tool }, run, { ok: false, kind })
    return this.finish(run, status, error)
  }

  private unknownTool(toolName: string): ToolResultError {
    const guess = didYouMean(toolName, [...this.tools.keys()])
    return {
      rule: 'unknown-tool',
      reason: `unknown tool ${toolName}${guess ? `; did you mean ${guess}?` : ''}`,
      fix: '`uni-wizard tools` lists every tool',
    }
  }

  private noProof(spec: ToolSpec): ToolResultError {
    return {
      rule: 'proof-required',
      reason: `${spec.name} ran but produced no evidence that its effect happened`,
      fix: `house ${this.house} requires proof; check the result by hand or use a tool with a verification`,
    }
  }

  /** Runs `ExecuteOptions.proof` after a successful tool run: its evidence is signed with the result. */
  private async extraProof(
    run: RunState,
    options: ExecuteOptions,
  ): Promise<{ status: ToolStatus; error?: ToolResultError }> {
    const signal = options.signal ?? new AbortController().signal
    try {
      const proof = await options.proof!(signal)
      run.proof = proof.evidence
      if (proof.passed) return { status: 'success' }
      const failed = proof.evidence.filter((e) => e.detail.exitCode !== 0 || e.detail.timedOut)
      return {
        status: 'unverified',
        error: {
          rule: 'proof-commands',
          reason: `the tool ran, but the repository's proof did not pass: ${failed.map((e) => e.summary).join('; ') || 'no evidence'}`,
          fix: 'fix what the proof commands check (`.uni-wizard.yaml` on the default branch), then retry',
        },
      }
    } catch (err) {
      if (signal.aborted)
        return {
          status: 'cancelled',
          error: { rule: 'cancelled', reason: 'cancelled during the proof commands' },
        }
      return {
        status: 'unverified',
        error: { rule: 'proof-commands', reason: `the proof commands could not run: ${errText(err)}` },
      }
    }
  }

  private configuredTimeout(spec: ToolSpec): number {
    return this.policy.timeouts[spec.name] ?? this.policy.timeouts.default ?? spec.timeoutMs
  }

  /**
   * A per-call branch prefix (a repository's `.uni-wizard.yaml`) may only narrow the configured one:
   * with `{house}` filled in, it must start with the configured prefix. Anything else would let a
   * repository move a house's pushes elsewhere (or share them between houses), so it is ignored,
   * with a note, and the configured prefix applies.
   */
  private narrowedPrefix(asked: string | undefined, notes: string[]): string | undefined {
    if (asked === undefined) return undefined
    const configured = toolsConfigOf(this.contextExtra as { toolConfig?: ToolsConfig }).git.branchPrefix
    const fill = (p: string): string => fillBranchPrefix(p, this.house)
    if (fill(asked).startsWith(fill(configured))) return asked
    notes.push(
      `the repository's branchPrefix ${JSON.stringify(fill(asked))} is not under this house's ${JSON.stringify(fill(configured))} (a repository may narrow it, never widen it); ${JSON.stringify(fill(configured))} applies`,
    )
    return undefined
  }

  private context(
    signal: AbortSignal,
    workspaceRoots: string[],
    branchPrefix?: string,
    gitOrigin?: ExecuteOptions['gitOrigin'],
  ): ToolContext {
    const extra = this.contextExtra as { toolConfig?: ToolsConfig }
    const base = toolsConfigOf(extra)
    return {
      ...this.contextExtra,
      ...(branchPrefix !== undefined && {
        toolConfig: { ...base, git: { ...base.git, branchPrefix } },
      }),
      signal,
      house: this.house,
      workspaceRoots,
      log: this.log,
      ...(gitOrigin && { gitOrigin }),
    } as ToolContext
  }
}

function realRoot(r: string): string {
  try {
    return realpathSync(resolve(r))
  } catch {
    return resolve(r) // a root that does not exist yet confines just the same
  }
}

function badArgs(spec: ToolSpec, error: z.ZodError): ToolResultError {
  return {
    rule: 'bad-args',
    reason: `bad arguments for ${spec.name}: ${z.prettifyError(error).replace(/\n/g, '; ')}`,
    fix: `\`uni-wizard tools\` shows the arguments of ${spec.name}`,
  }
}
