import { hostname } from 'node:os'
import { settleWithin } from '../settle-within.js'
import { DelayedError, QueueWorker, UnrecoverableError, type QueueJob } from '../queue/queue-worker.js'
import type { RedisClient } from '../queue/connection.js'
import type { ReplicaWait } from '../queue/replica-wait.js'
import type { Approval } from '../harness/approvals/approval.js'
import type { Harness } from '../harness/harness.js'
import { markHop } from '../hop-trace.js'
import type { Logger } from '../logger.js'
import { DEFAULT_PREFIX } from '../queue/connection.js'
import { houseQueueName } from '../queue/queue-names.js'
import { lockOptions } from '../queue/consumer-locks.js'
import type { ToolSpec } from '../tools/tool.js'
import { BullJobs, cancelChannel, HouseJobData } from '../jobs/bull-jobs.js'
import type { DaemonConfig } from '../config/daemon-config.js'
import { beat, unbeat } from './heartbeat.js'
import { harnessMode, toolArgs } from './house-vocabulary.js'
import { checkoutTargetText, FINAL_STATES, type JobState } from '../jobs/jobs.js'
import type { JobRecord, RedisJobStore, RunProgress } from '../jobs/job-store.js'
import { DEFAULT_OUTPUT_CAP } from '../report/render.js'
import { plainResult, StoredResult, storedResult } from '../jobs/stored-result.js'
import { CheckoutError } from '../checkouts/checkout-error.js'
import type { Checkout, CheckoutManager } from '../checkouts/checkout-manager.js'
import type { JobCheckout } from '../effects/effects.js'
import { runProofCommands, type RepoSettingsRead } from '../repo-settings/index.js'
import { agentTaskOf } from '../agents/task-kind.js'
import type { ExecuteOptions } from '../harness/harness-options.js'
import { runAgentJob, type AgentJobDeps } from './agent-job.js'
import { defaultBranchOf, readJobSettings, settingsNotes } from './job-settings.js'
import { decisionWaiter } from './decisions.js'
import type { TokenBudget } from './token-budget.js'
import { jobRef } from '../jobs/job-telemetry.js'
import { agentTelemetry } from './agent-telemetry.js'
import type { HouseStress } from '../stress/stress-monitor.js'

export interface HouseWorkerOptions {
  house: string
  /** A worker-role connection (maxRetriesPerRequest: null); BullMQ duplicates it for blocking reads. */
  connection: RedisClient
  prefix?: string
  store: RedisJobStore
  /** Reports state changes (and its queues hold the runs). */
  jobs: BullJobs
  harness: Harness
  tools: readonly ToolSpec[]
  concurrency: number
  settings: DaemonConfig['workers']
  log: Logger
  /** Default `<hostname>:<pid>:<house>`. */
  workerId?: string
  /**
   * The reporter's `outputCap`: the most output a result comment shows. A longer output gets the
   * digest of the part shown signed too, so the cut comment can be verified. Default 50,000.
   */
  outputCap?: number
  /**
   * Makes each job's checkout (jobs whose record names one: houses with `workspace: checkout`).
   * Without it such a job fails, saying this worker has no checkouts.
   */
  checkouts?: CheckoutManager
  /**
   * The house's agent and what its tasks need (`/ask`, `/implement`, `/review`); without it an
   * agent job fails, saying the house has no agent on this worker.
   */
  agent?: Omit<
    AgentJobDeps,
    'house' | 'harness' | 'tools' | 'appendEvent' | 'storedEvents' | 'showProgress' | 'log' | 'emitEvent'
  > & {
    /** The house's daily token budget; a job started with none left fails saying so. */
    budget?: TokenBudget
  }
  /**
   * How long a run waits before it looks again whether the runs queued before it in its issue
   * workspace have ended (it is delayed on the queue meanwhile, holding no worker). Default 1 s.
   */
  workspaceWaitMs?: number
  /** How often a job waiting for a sovereign's decision reads its record again. Default 500 ms. */
  decisionPollMs?: number
  /**
   * With `redis.waitReplicas`: the tool runs, and BullMQ completes a job, only once the run's
   * start, respectively its end, is on that many replicas (docs/OPERATIONS.md, "What a failover
   * can lose"). Without it a failover can lose either, and a run can repeat or never end.
   */
  replicas?: ReplicaWait
  /**
   * The house's stress (the same the harness checks): told each job's queue wait, and carried in
   * the heartbeat so `/houses` shows a degraded worker.
   */
  stress?: HouseStress
}

/** A job's checkout, prepared before the run is marked started, or why it could not be. */
type Prepared = { co: Checkout; checkout: JobCheckout } | { failure: CheckoutError | Error } | undefined

/** How the result comment and the record name what a checkout was at (see `checkoutTargetText`). */
export const targetText = (t: JobCheckout['target']): string => checkoutTargetText(t)

/** A running house worker. */
export interface RunningHouseWorker {
  house: string
  workerId: string
  /**
   * Stops taking jobs, lets running ones finish for `graceMs` (default from settings), then aborts
   * what is left (those runs end `cancelled`, saying the worker shut down) and closes. Bounded also
   * when Redis is unreachable (BullMQ's close then never ends): at most `graceMs` plus
   * `ABORT_WAIT_MS` and `UNBEAT_WAIT_MS`, and about `graceMs` with Redis away. Resolves true when
   * everything closed cleanly.
   */
  close(graceMs?: number): Promise<boolean>
}

/**
 * After the grace period: how long aborted jobs get to record their end before the worker gives up
 * (a tool's process group gets SIGTERM, then SIGKILL 2 s later). Not waited when Redis is away.
 */
export const ABORT_WAIT_MS = 5_000
/** How long removing the worker's heartbeat may take (skipped when Redis is not connected). */
export const UNBEAT_WAIT_MS = 500
/** How often the shutdown looks whether waiting on is pointless (no job running, Redis gone). */
const IDLE_POLL_MS = 100

const FINAL: Record<StoredResult['status'], JobState> = {
  success: 'success',
  failure: 'failure',
  unverified: 'unverified',
  denied: 'denied',
  timeout: 'timeout',
  cancelled: 'cancelled',
}

/**
 * Starts a BullMQ worker on `house-<name>` that runs each job through the house's Harness.
 *
 * Exactly-once for writes: before the tool starts, the worker marks the run `started`; after,
 * it stores the result, then reports. A run delivered again (its worker died, its lock expired)
 * reports the stored result if there is one. If it was started but has no result, a read tool is
 * simply run again; a write tool is NOT, because its effect may already have happened: the job
 * ends `failure` (rule `interrupted`) telling people to check the target and `/retry`.
 *
 * @example
 *   const w = await startHouseWorker({ house: 'bezalel', connection, store, jobs, harness, tools,
 *     concurrency: 2, settings: config.file.daemon.workers, log })
 *   process.once('SIGTERM', () => void w.close())
 */
export async function startHouseWorker(opts: HouseWorkerOptions): Promise<RunningHouseWorker> {
  const prefix = opts.prefix ?? DEFAULT_PREFIX
  const { house, store, jobs, harness, settings } = opts
  const workerId = opts.workerId ?? `${hostname()}:${process.pid}:${house}`
  const log = opts.log.child({ house, workerId })
  const toolsByName = new Map(opts.tools.map((t) => [t.name, t]))
  let shuttingDown = false
  /** Runs this worker marked started, then gave up before their tool ran (`redis.waitReplicas`). */
  const unrunStarts = new Set<string>()

  const finish = async (rec: JobRecord, result: StoredResult): Promise<void> => {
    // Only a cancellation needs to know who asked for it; other outcomes skip the read. (The
    // result used to be stored before this read; storing it with the transition below instead is
    // the same for a crash in between: no result, the run is re-delivered as before.)
    const latest = result.status === 'cancelled' ? await store.getRecord(rec.id) : undefined
    let reason: string | null = null
    if (result.status === 'cancelled')
      reason = latest?.cancelRequestedBy
        ? `cancelled by @${latest.cancelRequestedBy}`
        : shuttingDown
          ? 'the worker shut down before the tool finished'
          : 'cancelled'
    // Result stored, record ended and its report queued: one MULTI, one round trip.
    const patch = { state: FINAL[result.status], finishedAt: new Date().toISOString(), reason }
    let ended: JobRecord | undefined
    for (;;) {
      const since = Date.now()
      ended = await jobs.endRun(rec, patch, JSON.stringify(result))
      // BullMQ completes the job when this returns: with `redis.waitReplicas`, only once the end
      // is on the replicas, or a failover could keep the completion and lose the end (a job done
      // with its record still `running`). Ending again is idempotent (the first result is kept).
      if (!opts.replicas || (await opts.replicas.confirm(since))) break
      log.warn(
        { jobId: rec.id, runId: rec.runId },
        'Redis reconnected before the end of the run was replicated; recording it again',
      )
    }
    const why = result.error?.reason ?? reason ?? undefined
    if (ended) {
      markHop('worker.reported', rec.origin.deliveryId, FINAL[result.status])
      await jobs.emitFinished(ended, why)
      return
    }
    // Already final: a repeat after a lost reply, or another worker or a person ended it first.
    // Reporting again is safe: the report is keyed by run and state, and the edit is the same text.
    const now = await store.getRecord(rec.id)
    if (now && now.runId === rec.runId && FINAL_STATES.has(now.state)) {
      await jobs.report(now)
      await jobs.emitFinished(now, why)
    }
  }

  /** The proof commands a run's statement records, one `proof.result` each (once per run and name). */
  const emitProof = async (rec: JobRecord, result: StoredResult): Promise<void> => {
    for (const p of result.statement?.predicate.proof ?? []) {
      const d = p.detail
      await jobs.telemetry.emit(
        {
          type: 'proof.result',
          ...jobRef(rec),
          name: d.name,
          passed: d.exitCode === 0 && !d.timedOut && d.signal === null,
          exitCode: d.exitCode,
          timedOut: d.timedOut,
          durationMs: d.durationMs,
        },
        `${rec.id}.${rec.run}.proof.${d.name}`,
      )
    }
  }

  /**
   * A run `pickUp` did not start: a stale or ended run, a stored result, an interrupted write, a
   * cancel request, a dry run, or a record not as the job said. Finishes it (resolving to what
   * happened) or starts it (resolving to the running record).
   */
  const startOtherwise = async (
    rec: JobRecord,
    progress: RunProgress,
    tool: ToolSpec | undefined,
    jlog: Logger,
    runId: string,
    startedAt: string,
  ): Promise<JobRecord | string> => {
    if (rec.runId !== runId) return 'stale run'
    if (rec.house !== house) {
      // Moved to its backup house (no worker of this house was alive): the move puts it on the
      // backup's queue before taking it off this one, so a crash in between leaves it here too;
      // putting it there again is idempotent (BullMQ id = run id). This worker never runs it.
      if (rec.state === 'queued') await jobs.addRun(rec)
      jlog.info({ to: rec.house }, 'run moved to the backup house; not run here')
      return `moved to house ${rec.house}`
    }
    if (rec.state !== 'queued' && rec.state !== 'running') {
      // A crash between the final transition and queueing its report would otherwise leave the
      // comment saying "running" forever; the report is keyed, so sending it again is harmless.
      if (FINAL_STATES.has(rec.state)) {
        await jobs.report(rec)
        await jobs.emitFinished(rec)
      }
      return `already ${rec.state}`
    }
    if (progress.result !== undefined) {
      const stored = StoredResult.safeParse(JSON.parse(progress.result))
      if (stored.success) {
        jlog.info('run already finished; reporting its stored result')
        await finish(rec, stored.data)
        return 'reported stored result'
      }
    }
    // An agent task is run again: a Hermes run resumes under its idempotency key, a loop starts
    // over in a fresh checkout; its push and pull request find what a first run left (docs/AGENTS.md).
    // This worker's own mark of a start it gave up before running the tool (not replicated in
    // time, see `take`) is not an interrupted write.
    const ownUnrun = unrunStarts.has(runId) && progress.started?.worker === workerId
    if (progress.started && !ownUnrun && !agentTaskOf(rec.tool) && (!tool || tool.access === 'write')) {
      jlog.warn({ started: progress.started }, 'write interrupted mid-run; not running it again')
      await finish(
        rec,
        plainResult('failure', '', {
          rule: 'interrupted',
          reason: `the worker running this write (${progress.started.worker}, from ${progress.started.at}) stopped before reporting; it is not run again automatically because its effect may already have happened`,
          fix: `check the target, then \`/retry ${rec.id}\` if it did not happen`,
        }),
      )
      return 'interrupted write'
    }
    if (rec.cancelRequestedBy) {
      await finish(rec, plainResult('cancelled', ''))
      return 'cancelled before start'
    }
    // A dry run runs nothing, so it is not marked started; anything else `pickUp` would have
    // started (a job whose name is not its record's tool, say) is started here the long way.
    const running = rec.dryRun
      ? await store.transition(rec.id, ['queued', 'running'], { state: 'running', startedAt })
      : await store.startRun(
          rec.id,
          ['queued', 'running'],
          { state: 'running', startedAt },
          { runId: rec.runId, worker: workerId, at: startedAt },
        )
    return running ?? 'cancelled meanwhile'
  }

  const process_ = async (job: QueueJob, token?: string, signal?: AbortSignal): Promise<string> => {
    const data = HouseJobData.safeParse(job.data)
    if (!data.success) throw new UnrecoverableError(`bad job data: ${data.error.issues[0]?.message}`)
    // Queue wait, on a job's first start only: a retried or delayed one also waited on purpose.
    if (opts.stress && job.attemptsStarted <= 1 && !job.opts.delay && job.processedOn !== undefined)
      opts.stress.observeQueueWait(job.processedOn - job.timestamp)
    // The runs of one issue workspace start in the order they were queued: one whose elder has
    // not ended goes back on the queue, delayed (not an attempt, not a failure, holding no worker).
    const before = await jobs.workspaceTurn(house, data.data)
    if (before) {
      log.debug({ jobId: data.data.jobId, after: before.jobId }, 'waiting for the issue workspace')
      await job.moveToDelayed(Date.now() + (opts.workspaceWaitMs ?? 1000), token)
      throw new DelayedError()
    }
    // Before the run is marked started: a transient failure (network, disk full) is thrown, and
    // BullMQ retries the job later without it counting as started (a write would not be re-run).
    const prepared = data.data.checkout
      ? await prepareCheckout(data.data, signal, agentTaskOf(job.name) !== undefined)
      : undefined
    let outcome: 'success' | 'failure' = 'success'
    try {
      const ran = await take(job, data.data, signal, prepared)
      // A run that did not succeed keeps its checkout for a while; anything else is deleted.
      if (ran in FINAL && ran !== 'success') outcome = 'failure'
      await jobs
        .leaveWorkspace(house, data.data)
        .catch((err: unknown) => log.warn({ err, jobId: data.data.jobId }, 'workspace line not left'))
      return ran
    } finally {
      // After the final report is queued: a failed job's checkout is kept for a while (keepFailed).
      if (prepared && 'co' in prepared)
        await prepared.co
          .release(outcome)
          .catch((err: unknown) => log.warn({ err, jobId: data.data.jobId }, 'checkout not released'))
    }
  }

  /** An agent task always starts from a fresh checkout of its target, never an issue workspace. */
  const prepareCheckout = async (
    d: HouseJobData,
    signal: AbortSignal | undefined,
    fresh: boolean,
  ): Promise<Prepared> => {
    const checkout = d.checkout as JobCheckout
    if (!opts.checkouts)
      return {
        failure: new Error(
          'this worker makes no checkouts (it runs without a Gitea to check out from); run the house on a worker started with GITEA_URL',
        ),
      }
    const repo = d.repo ?? repoOfCloneUrl(checkout.cloneUrl)
    const resumable = fresh && opts.agent?.agent.backend.kind === 'hermes'
    try {
      const co = await opts.checkouts.prepare(
        {
          repo,
          cloneUrl: checkout.cloneUrl,
          jobId: `${d.jobId}.${d.runId}`,
          target: checkout.target,
          ...(d.issue !== undefined && !fresh && { workspace: { issue: d.issue, house } }),
          // A Hermes agent works in the checkout on its own: when this worker dies, the run goes
          // on and the next delivery resumes it, so it must find the agent's work where it was.
          ...(resumable && { resumeMs: opts.agent!.agent.limits.wallMs }),
        },
        signal ?? new AbortController().signal,
      )
      return { co, checkout }
    } catch (err) {
      if (err instanceof CheckoutError && err.transient && !signal?.aborted) {
        log.warn({ err, jobId: d.jobId, kind: err.kind }, 'checkout failed for now; the job is retried')
        throw err
      }
      return { failure: err instanceof Error ? err : new Error(String(err)) }
    }
  }

  const take = async (
    job: QueueJob,
    data: HouseJobData,
    signal: AbortSignal | undefined,
    prepared: Prepared,
  ): Promise<string> => {
    // One round trip reads the record and the run's progress and, in the usual case, also moves
    // the record to `running` and marks the run started (by this worker, right before the tool:
    // a failure before this point re-runs safely; after it, a write is not repeated).
    const named = toolsByName.get(job.name)
    const startedAt = new Date().toISOString()
    const picked = await store.pickUp(data.jobId, {
      runId: data.runId,
      tool: job.name,
      house,
      write: agentTaskOf(job.name) === undefined && (!named || named.access === 'write'),
      worker: workerId,
      at: startedAt,
    })
    const rec = picked.record
    if (!rec) throw new UnrecoverableError(`no readable record for job ${data.jobId}`)
    markHop('worker.picked', rec.origin.deliveryId)
    const jlog = log.child({ jobId: rec.id, runId: rec.runId, tool: rec.tool })
    const tool = toolsByName.get(rec.tool)
    const running = picked.started
      ? rec
      : await startOtherwise(rec, picked.progress, tool, jlog, data.runId, startedAt)
    if (typeof running === 'string') return running
    // With `redis.waitReplicas`, the tool runs only once the run's start (and BullMQ's move of the
    // job to active, which came before it) is on the replicas: a failover that lost them would
    // hand the job to another worker as never started, and the tool would run twice. Otherwise
    // the attempt fails before anything ran and BullMQ retries it. (A cancelled run goes on: the
    // harness sees the signal and runs nothing.)
    const since = job.processedOn ?? Date.parse(startedAt)
    if (opts.replicas && !(await opts.replicas.confirm(since, signal)) && !signal?.aborted) {
      unrunStarts.add(running.runId)
      throw new Error(
        'Redis reconnected before the start of this run was replicated (a failover may have lost it); the tool did not run and the job is retried',
      )
    }
    unrunStarts.delete(running.runId)
    await jobs.telemetry.emit(
      {
        type: 'job.started',
        ...jobRef(running),
        worker: workerId,
        waitMs: Math.max(0, Date.parse(startedAt) - Date.parse(running.createdAt)),
      },
      `${running.id}.${running.run}.started`,
    )
    // The ack says "running" only for a run that takes a while: a fast one goes from "queued"
    // straight to its result, saving a report and a Gitea edit per job. 0 reports at once.
    let runningReport: NodeJS.Timeout | undefined
    if (settings.runningReportDelayMs === 0) await jobs.report(running)
    else
      runningReport = setTimeout(
        () =>
          void jobs.report(running).catch((err: unknown) => jlog.warn({ err }, 'running report not queued')),
        settings.runningReportDelayMs,
      )
    try {
      return await runTool(rec, tool, jlog, signal, () => clearTimeout(runningReport), prepared)
    } finally {
      clearTimeout(runningReport)
    }
  }

  /** Runs a started job's tool (or its dry run) and finishes it; `ran` is called before finishing. */
  const runTool = async (
    rec: JobRecord,
    tool: ToolSpec | undefined,
    jlog: Logger,
    signal: AbortSignal | undefined,
    ran: () => void,
    prepared: Prepared,
  ): Promise<string> => {
    if (prepared && 'failure' in prepared) {
      ran()
      const err = prepared.failure
      if (signal?.aborted) {
        await finish(rec, plainResult('cancelled', ''))
        return 'cancelled'
      }
      jlog.warn({ err }, 'no checkout; the job fails')
      await finish(
        rec,
        plainResult('failure', '', {
          rule: 'checkout',
          reason: `could not check out ${rec.origin.repo.owner}/${rec.origin.repo.name}: ${err.message}`,
          fix:
            err instanceof CheckoutError && err.kind === 'no-such-commit'
              ? 'name an existing branch, tag or commit with `checkout=<ref>`'
              : `fix the cause, then \`/retry ${rec.id}\``,
        }),
      )
      return 'checkout failed'
    }
    if (rec.dryRun) {
      ran()
      await finish(
        rec,
        plainResult(
          'success',
          `dry run: ${rec.tool} was not run. House ${house} would run it with ${JSON.stringify(rec.args)} in mode ${rec.mode}.`,
        ),
      )
      return 'dry run'
    }
    const co = prepared && 'co' in prepared ? prepared : undefined
    // The commit this run works on, for the reporter's final commit status: it can differ from a
    // pull request's head recorded at enqueue when the branch was force-pushed in between.
    if (co)
      await store.transition(rec.id, [], { commit: co.co.commit, continued: co.co.continued ? true : null })
    const read = co ? await readJobSettings(house, rec, co, signal, jlog) : undefined
    if (read && 'refusal' in read) {
      ran()
      await finish(rec, plainResult('denied', '', read.refusal))
      return 'denied'
    }
    const notes = read ? await settingsNotes(opts.connection, prefix, rec, read) : []
    const proof = read?.settings.proof ?? []
    if (agentTaskOf(rec.tool)) {
      const stored = await runAgent(rec, co, read, signal ?? new AbortController().signal, jlog)
      ran()
      stored.notes.push(...notes)
      await emitProof(rec, stored)
      await finish(rec, stored)
      return stored.status
    }
    const proofCommands = co && harness.policy.proofRequired && proof.length > 0
    jlog.info({ checkout: co?.co.path }, 'running')
    markHop('worker.toolStart', rec.origin.deliveryId)
    await jobs.telemetry.emit({ type: 'tool.started', ...jobRef(rec) }, `${rec.id}.${rec.run}.tool.started`)
    const result = await harness.execute(rec.tool, toolArgs(tool, rec.args), {
      ...executeOptions(rec, co, read, signal),
      ...(proofCommands && {
        proof:
          opts.settings.proofCommands === 'same-user'
            ? (s: AbortSignal) => runProofCommands(co.co.path, proof, { signal: s, log: jlog })
            : () =>
                Promise.reject(
                  new Error(
                    "they are off on this worker (daemon.workers.proofCommands: off): they would run the checked-out code as the bot's user, which can read its token and keys",
                  ),
                ),
      }),
    })
    markHop('worker.toolEnd', rec.origin.deliveryId)
    await jobs.telemetry.emit(
      {
        type: 'tool.finished',
        ...jobRef(rec),
        status: result.status,
        durationMs: result.durationMs,
        attempts: result.attempts,
      },
      `${rec.id}.${rec.run}.tool.finished`,
    )
    ran()
    jlog.info({ status: result.status, durationMs: result.durationMs, commit: co?.co.commit }, 'finished')
    const stored = storedResult(result)
    stored.notes.push(...notes)
    if (co)
      stored.checkout = {
        commit: co.co.commit,
        repo: co.co.repoKey,
        target: targetText(co.checkout.target),
        ...(co.co.note ? { note: co.co.note } : {}),
      }
    await emitProof(rec, stored)
    await finish(rec, stored)
    return result.status
  }

  /** The options of a job's calls: who and what asked, its checkout and what it was at. */
  const executeOptions = (
    rec: JobRecord,
    co: { co: Checkout; checkout: JobCheckout } | undefined,
    read: RepoSettingsRead | undefined,
    signal: AbortSignal | undefined,
  ): ExecuteOptions => ({
    requestedBy: rec.requester.login,
    signal,
    // Untrusted until the harness verifies the router's signature and re-checks every claim.
    approval: rec.approval as Approval | undefined,
    job: { id: rec.id, runId: rec.runId },
    requestUrl: rec.origin.commentUrl,
    deliveryId: rec.origin.deliveryId,
    mode: harnessMode(rec.mode),
    retryOf: rec.firstRequester && { jobId: rec.id, requestedBy: rec.firstRequester.login },
    shownOutputChars: opts.outputCap ?? DEFAULT_OUTPUT_CAP,
    ...(read?.settings.branchPrefix !== undefined && { branchPrefix: read.settings.branchPrefix }),
    ...(agentTaskOf(rec.tool) && { task: { tool: rec.tool, args: rec.args } }),
    ...(co && {
      workspaceRoots: [co.co.path],
      ...(opts.checkouts && { gitOrigin: opts.checkouts.gitOrigin(co.checkout.cloneUrl) }),
      resolvedDependencies: [
        {
          uri: `git+${co.checkout.cloneUrl}@${co.co.commit}`,
          digest: { gitCommit: co.co.commit },
          annotations: { repo: co.co.repoKey, target: targetText(co.checkout.target) },
        },
      ],
    }),
  })

  const decide = decisionWaiter({ store, jobs, pollMs: opts.decisionPollMs ?? 500 })

  /** Runs an agent task (docs/AGENTS.md) in the job's checkout; resolves to its stored result. */
  const runAgent = async (
    rec: JobRecord,
    co: { co: Checkout; checkout: JobCheckout } | undefined,
    read: RepoSettingsRead | undefined,
    signal: AbortSignal,
    jlog: Logger,
  ): Promise<StoredResult> => {
    if (!opts.agent)
      return plainResult('failure', '', {
        rule: 'no-agent',
        reason: `house ${house} has no agent on this worker (${workerId})`,
        fix: `give house ${house} an \`agent:\` in the houses config (docs/AGENTS.md) and restart its worker`,
      })
    const { budget, ...agentDeps } = opts.agent
    const limits = agentDeps.agent.limits
    // Tokens are counted into the day's budget as the run reports them (every worker of the house
    // shares it in Redis); a run that finds the budget spent is stopped and fails saying so. Jobs
    // running at once can overshoot by at most the turn each is in.
    const left = budget ? await budget.left() : Infinity
    if (left <= 0)
      return plainResult('failure', '', {
        rule: 'agent-budget',
        reason: `house ${house}'s agent has used its daily token budget (${budget?.daily.toLocaleString('en')} tokens); it starts again at 00:00 UTC`,
        fix: `raise houses.${house}.agent.limits.dailyTokenBudget, or \`/retry ${rec.id}\` tomorrow`,
      })
    const proof = read?.settings.proof ?? []
    const proofOn = opts.settings.proofCommands === 'same-user'
    const target = co?.checkout.target
    let counted = 0
    /** Counts the run's new tokens; resolves to what is left of the day's budget. */
    const count = async (total: number): Promise<number> => {
      const delta = total - counted
      counted = Math.max(counted, total)
      return budget ? budget.spend(delta) : Infinity
    }
    let ran: StoredResult | undefined
    try {
      ran = await runAgentJob(
        {
          ...agentDeps,
          // A job never spends more than what is left of the day's budget.
          agent: { ...agentDeps.agent, limits: { ...limits, maxTokens: Math.min(limits.maxTokens, left) } },
          house,
          harness,
          tools: opts.tools,
          log: jlog,
          appendEvent: (line) => store.appendAgentEvent(rec.runId, line),
          emitEvent: agentTelemetry(jobs.telemetry, rec, (t) => harness.redactText(t)),
          storedEvents: () => store.agentEvents(rec.runId),
          keepTask: (task) => store.keepAgentTask(rec.runId, task),
          ...(budget && {
            spend: async (total: number) =>
              (await count(total)) <= 0
                ? `house ${house}'s agent used its daily token budget (${budget.daily.toLocaleString('en')} tokens) during this run; it starts again at 00:00 UTC`
                : undefined,
          }),
          decide: (request, s) => decide(rec, request, s, jlog),
          showProgress: async (p, seq) => {
            await store.setAgentSteps(rec.runId, JSON.stringify(p))
            await jobs.reportProgress(rec, seq)
          },
        },
        {
          rec,
          signal,
          checkout: co && {
            path: co.co.path,
            commit: co.co.commit,
            repo: rec.origin.repo,
            baseBranch: defaultBranchOf(co.checkout),
            ...(target?.kind === 'pull' ? { pull: { number: target.number, baseRef: target.baseRef } } : {}),
          },
          options: executeOptions(rec, co, read, signal),
          ...(co && proof.length > 0 && proofOn
            ? { proof: (s: AbortSignal) => runProofCommands(co.co.path, proof, { signal: s, log: jlog }) }
            : {}),
          ...(proof.length > 0 && !proofOn
            ? { proofUnavailable: 'daemon.workers.proofCommands is off on this worker' }
            : {}),
          ...(read?.settings.branchPrefix !== undefined ? { branchPrefix: read.settings.branchPrefix } : {}),
        },
      )
    } finally {
      // What the run used beyond what its usage events counted (a backend that reports only at
      // the end), also when it threw.
      await count(ran?.statement?.predicate.agent?.usage.totalTokens ?? counted).catch((err: unknown) =>
        jlog.warn({ err }, 'tokens not counted'),
      )
    }
    const out = ran
    if (co)
      out.checkout = {
        commit: co.co.commit,
        repo: co.co.repoKey,
        target: targetText(co.checkout.target),
        ...(co.co.note ? { note: co.co.note } : {}),
      }
    return out
  }

  // Jobs this worker is running now; the shutdown looks at it.
  let running = 0
  const counted = async (job: QueueJob, token?: string, signal?: AbortSignal): Promise<string> => {
    running++
    try {
      return await process_(job, token, signal)
    } finally {
      running--
    }
  }
  const worker = new QueueWorker(houseQueueName(house), counted, {
    connection: opts.connection,
    prefix,
    concurrency: opts.concurrency,
    ...lockOptions(settings, settings.maxStalledCount),
    autorun: false,
  })
  worker.on('error', (err) => log.error({ err }, 'house worker error'))
  worker.on('failed', (job, err) => {
    // Given up on (bad data, or the harness's store away on every attempt, or stalled too often):
    // end the job so people are not left with a comment saying "running" forever.
    if (!job) return
    const final = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1)
    const data = HouseJobData.safeParse(job.data)
    log.error({ err, jobId: job.id, final }, 'house job failed')
    if (!final || !data.success) return
    void (async () => {
      const rec = await store.getRecord(data.data.jobId)
      if (!rec || rec.runId !== data.data.runId) return
      await finish(rec, plainResult('failure', '', { rule: 'worker-failure', reason: err.message }))
    })().catch((e: unknown) => log.error({ err: e }, 'could not record a failed job'))
  })

  // `/cancel` of a running job: whichever worker holds the run aborts its signal.
  const sub = opts.connection.duplicate()
  sub.on('error', (err: Error) => log.warn({ err }, 'cancel subscription error'))
  sub.on('message', (_channel: string, runId: string) => {
    if (worker.cancelJob(runId, 'cancelled')) log.info({ runId }, 'cancelling a running job')
  })
  await sub.subscribe(cancelChannel(prefix))

  const ttl = settings.heartbeatMs * 3
  // Gained and lost workers are seen by one beat each (the beat's MULTI), so each is emitted once.
  const heartbeat = async () => {
    try {
      // A worker with a free slot takes a waiting job at once: its queue has no wait to speak of.
      if (opts.stress && running < opts.concurrency) opts.stress.observeQueueWait(0)
      const change = await beat(
        opts.connection,
        prefix,
        house,
        workerId,
        ttl,
        Date.now(),
        opts.stress?.degraded(),
      )
      for (const l of change.lost)
        await jobs.telemetry.emit({ type: 'house.heartbeat_lost', house, worker: l.worker, why: 'expired' })
      if (change.gained)
        await jobs.telemetry.emit({ type: 'house.heartbeat_gained', house, worker: workerId })
    } catch (err) {
      log.warn({ err }, 'heartbeat failed')
    }
  }
  await heartbeat()
  const timer = setInterval(() => void heartbeat(), settings.heartbeatMs)
  timer.unref()

  void worker.run().catch((err: unknown) => log.error({ err }, 'house worker stopped'))
  await worker.waitUntilReady()
  log.info({ concurrency: opts.concurrency }, 'house worker started')

  return {
    house,
    workerId,
    async close(graceMs = settings.shutdownGraceMs) {
      shuttingDown = true
      clearInterval(timer)
      const redisUp = () => opts.connection.status === 'ready'
      // Stops fetching, waits for the running jobs, then closes BullMQ's connections. With Redis
      // gone it never resolves (a job's end cannot be recorded, QUIT is never answered), so every
      // wait on it is bounded, and waiting stops early once no job runs and Redis is away.
      const closing = worker.close()
      /** Whether `closing` settles within `ms`; stops waiting early once `pointless()` holds. */
      const closedWithin = async (ms: number, pointless: () => boolean): Promise<boolean> => {
        let poll: NodeJS.Timeout | undefined
        const cutOff = new Promise<void>((resolve) => {
          poll = setInterval(() => pointless() && resolve(), IDLE_POLL_MS)
        })
        await settleWithin(Promise.race([closing, cutOff]), ms)
        clearInterval(poll)
        return settleWithin(closing, 0)
      }
      let closed = await closedWithin(graceMs, () => running === 0 && !redisUp())
      if (!closed && running > 0) {
        log.warn({ graceMs, running }, 'grace period over; aborting running jobs')
        worker.cancelAllJobs('shutdown')
        // Aborted runs record their end (`cancelled`) unless Redis is away: then nothing can be
        // recorded, and their locks expire so another worker takes them over.
        closed = await closedWithin(ABORT_WAIT_MS, () => !redisUp())
      }
      sub.disconnect()
      if (redisUp()) {
        let gone = false
        await settleWithin(
          unbeat(opts.connection, prefix, house, workerId).then(
            (removed) => {
              gone = removed
            },
            () => undefined,
          ),
          UNBEAT_WAIT_MS,
        )
        if (gone)
          await settleWithin(
            jobs.telemetry.emit({ type: 'house.heartbeat_lost', house, worker: workerId, why: 'stopped' }),
            UNBEAT_WAIT_MS,
          )
      }
      if (closed) log.info('house worker stopped')
      else
        log.warn(
          { redis: redisUp() ? 'connected' : 'unreachable', running },
          'house worker stopped without closing cleanly: its running jobs are taken over by another worker once their locks expire',
        )
      return closed
    },
  }
}

/** `owner/name` from a Gitea clone URL (`…/owner/name.git`), for job data written without `repo`. */
function repoOfCloneUrl(cloneUrl: string): { owner: string; name: string } {
  const parts = new URL(cloneUrl).pathname
    .replace(/\.git$/, '')
    .split('/')
    .filter(Boolean)
  return { owner: parts[parts.length - 2] ?? '', name: parts[parts.length - 1] ?? '' }
}
