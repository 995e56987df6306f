import { Job, Queue, type JobsOptions } from 'bullmq'
import type { Cluster, Redis } from 'ioredis'
import { z } from 'zod'
import type { RepoRef } from '../gitea/port.js'
import type { Logger } from '../logger.js'
import { digestOf } from '../provenance/canonical-json.js'
import { DEFAULT_PREFIX } from '../queue/connection.js'
import { houseQueueName, REPORTS_QUEUE } from '../queue/queue-names.js'
import type { ApprovalComment, JobRequest } from '../effects/effects.js'
import { FINAL_STATES, type JobView, type JobsControl, type JobsView } from './jobs.js'
import { JobRecord, recordFromReply, type JobPatch, type RedisJobStore } from './job-store.js'
import { WorkspaceLine, type Run } from './workspace-line.js'
import { NO_TELEMETRY, type TelemetrySink } from '../telemetry/telemetry-sink.js'
import { jobFinishedEvent, jobRef } from './job-telemetry.js'

/**
 * Data of a job on a `house-<name>` queue: which record and which run of it, and the record's
 * checkout (if any), so the worker prepares it before it marks the run started: a checkout that
 * fails transiently is retried without the run counting as started.
 */
export const HouseJobData = z.object({
  jobId: z.string().min(1),
  runId: z.string().min(1),
  checkout: JobRecord.shape.checkout,
  /** The repository checked out (the record's origin), with `checkout`. */
  repo: z.object({ owner: z.string(), name: z.string() }).optional(),
  /**
   * The issue or pull request, with `checkout`: the run works in that issue's workspace, after the
   * runs queued before it (`WorkspaceLine`). Absent in jobs queued before workspaces existed.
   */
  issue: z.number().int().positive().optional(),
})
export type HouseJobData = z.infer<typeof HouseJobData>

/** Data of a job on the `reports` queue: render the job's current state; `expire` also ends a stale approval request. */
export const ReportData = z.object({
  jobId: z.string().min(1),
  kind: z.enum(['state', 'expire', 'progress']),
  /** The run and state this report was queued for; a report for an older state is skipped. */
  run: z.number().int().optional(),
  state: z.string().optional(),
  /** For `progress`: the checklist's version (each gets its own report id). */
  seq: z.number().int().nonnegative().optional(),
})
export type ReportData = z.infer<typeof ReportData>

/**
 * Signs the router's attestation that a sovereign approved a record's run in a comment (the router
 * holds only its own `_router` key, never a house key).
 */
export type ApprovalSigner = (
  record: JobRecord,
  approver: string,
  comment: ApprovalComment | undefined,
  /** The digest to attest, when it is not the job's own call (a running agent job's request). */
  digest?: string,
) => Promise<unknown> | unknown

export interface BullJobsOptions {
  /** A connection for the queues (producer or worker role). */
  connection: Redis | Cluster
  prefix?: string
  store: RedisJobStore
  /** Every configured house: one queue each. */
  houses: readonly string[]
  /** Signs approvals; without it `/approve` cannot start anything (workers-only processes). */
  signApproval?: ApprovalSigner
  /** Attempts of a house job when the harness cannot reach its state store (before the tool runs). */
  houseAttempts?: number
  /** Report retry: attempts and first delay (the reporter's backoff strategy caps it). */
  reportAttempts?: number
  log: Logger
  now?: () => number
  /**
   * Where job events go (queued, approval asked, approved, finished), each keyed by job, run and
   * state so a repeated step appends nothing twice. Default: nowhere.
   */
  telemetry?: TelemetrySink
}

/**
 * Digest of what would run, as `/approve` shows it and the approval is bound to: house, tool,
 * arguments (as written) and mode.
 *
 * @example
 *   jobDigest({ house: 'bezalel', tool: 'git_push', args: {}, mode: 'SIMPLE' }) // 'sha256:…'
 */
export function jobDigest(j: Pick<JobRequest, 'house' | 'tool' | 'args' | 'mode' | 'checkout'>): string {
  // What it runs on is part of what is approved; jobs without a checkout keep their old digest.
  return digestOf({
    house: j.house,
    tool: j.tool,
    args: j.args,
    mode: j.mode,
    ...(j.checkout ? { checkout: j.checkout } : {}),
  })
}

const ENDED = [...FINAL_STATES]

/**
 * The job system over BullMQ: one queue per house (job name = tool, BullMQ id = the run id, which
 * is the command's idempotency key for the first run), records in Redis for `/status`, and state
 * changes pushed to the `reports` queue so the ack comment follows the job.
 *
 * Jobs that need approval are not put on their house queue at all until approved: they live only
 * as a record in `awaiting_approval`, plus a delayed `expire` report at the expiry time. So a
 * worker can never take an unapproved job, nothing has to be moved between queues, and the
 * expiry is one delayed job that also edits the comment.
 *
 * Every method is idempotent (the router may repeat an effect after a crash): enqueue creates the
 * record only if absent and BullMQ ignores a second add with the same id; state changes are
 * compare-and-set on the record's state.
 *
 * @example
 *   const jobs = new BullJobs({ connection, store, houses: ['timmy', 'bezalel'], log, signApproval })
 *   await jobs.enqueue({ ...request, ackCommentId: 42 })
 */
export class BullJobs implements JobsControl, JobsView {
  private readonly queues = new Map<string, Queue>()
  private readonly reports: Queue
  private readonly prefix: string
  private readonly now: () => number
  private readonly line: WorkspaceLine
  readonly telemetry: TelemetrySink

  constructor(private readonly opts: BullJobsOptions) {
    this.prefix = opts.prefix ?? DEFAULT_PREFIX
    this.telemetry = opts.telemetry ?? NO_TELEMETRY
    this.now = opts.now ?? Date.now
    this.line = new WorkspaceLine(opts.connection, this.prefix, opts.store)
    for (const house of opts.houses) {
      const q = new Queue(houseQueueName(house), { connection: opts.connection, prefix: this.prefix })
      q.on('error', (err) => opts.log.warn({ err, house }, 'house queue error'))
      this.queues.set(house, q)
    }
    this.reports = new Queue(REPORTS_QUEUE, { connection: opts.connection, prefix: this.prefix })
    this.reports.on('error', (err) => opts.log.warn({ err }, 'reports queue error'))
  }

  get(jobId: string): Promise<JobView | undefined> {
    return this.opts.store.get(jobId)
  }

  listForIssue(repo: RepoRef, issue: number): Promise<JobView[]> {
    return this.opts.store.listForIssue(repo, issue)
  }

  private iso(offsetMs = 0): string {
    return new Date(this.now() + offsetMs).toISOString()
  }

  async enqueue(job: JobRequest & { ackCommentId: number | undefined }): Promise<void> {
    const queue = this.queues.get(job.house)
    if (!queue) throw new Error(`no queue for house ${job.house}`)
    const record: JobRecord = {
      id: job.jobId,
      runId: job.jobId,
      run: 1,
      state: job.approval.required ? 'awaiting_approval' : 'queued',
      house: job.house,
      tool: job.tool,
      args: job.args,
      mode: job.mode,
      dryRun: job.dryRun,
      requester: job.requester,
      origin: { ...job.origin, commentId: job.origin.commentId },
      approvalRequired: job.approval.required,
      approvers: job.approval.approvers,
      allowSelfApproval: job.approval.allowSelfApproval ?? false,
      approvalTtlSeconds: job.approval.ttlSeconds,
      houseReason: job.houseReason,
      ...(job.prediction ? { prediction: job.prediction } : {}),
      digest: jobDigest(job),
      ackCommentKey: job.ackCommentKey,
      ackCommentId: job.ackCommentId,
      createdAt: this.iso(),
      expiresAt: job.approval.required ? this.iso(job.approval.ttlSeconds * 1000) : undefined,
      retryKeys: [],
      checkout: job.checkout,
    }
    const created = await this.opts.store.create(record)
    // Created now or by an earlier attempt: make sure what should follow did follow. When created
    // now, the stored record is this one, so it is not read back.
    const current = created ? record : await this.opts.store.getRecord(job.jobId)
    if (!current) throw new Error(`job record ${job.jobId} vanished`)
    // Emitted on every attempt while the record is in the state (a repeat after a crash emits what
    // the first attempt may not have), appended once by its key; before the run is on its queue,
    // so `job.queued` always comes before the worker's `job.started`.
    await this.emitState(current)
    if (current.state === 'queued' && current.run === 1) await this.addRun(current)
    if (current.state === 'awaiting_approval') await this.scheduleExpiry(current)
  }

  /** The event of a record's `queued` or `awaiting_approval` state, once per run. */
  private async emitState(rec: JobRecord): Promise<void> {
    if (rec.state === 'queued')
      await this.telemetry.emit(
        { type: 'job.queued', ...jobRef(rec), mode: rec.mode, requester: rec.requester.login },
        `${rec.id}.${rec.run}.queued`,
      )
    else if (rec.state === 'awaiting_approval')
      await this.telemetry.emit(
        {
          type: 'job.approval_asked',
          ...jobRef(rec),
          approvers: rec.approvers,
          ...(rec.expiresAt ? { expiresAt: rec.expiresAt } : {}),
        },
        `${rec.id}.${rec.run}.approval_asked`,
      )
  }

  /**
   * A record's end (its final state, how long its run took, and why: `reason`, else the record's),
   * once per run. A worker ending a run emits it with its result's reason.
   */
  async emitFinished(rec: JobRecord, reason?: string): Promise<void> {
    if (!FINAL_STATES.has(rec.state)) return
    await this.telemetry.emit(jobFinishedEvent(rec, this.now(), reason), `${rec.id}.${rec.run}.finished`)
  }

  async cancel(jobId: string, by: string, reason: string | undefined): Promise<void> {
    const why = `cancelled by @${by}${reason ? `: ${reason}` : ''}`
    const ended = { state: 'cancelled' as const, finishedAt: this.iso(), reason: why }
    const rec = await this.opts.store.getRecord(jobId)
    if (!rec || FINAL_STATES.has(rec.state)) return
    let done = await this.opts.store.transition(jobId, ['awaiting_approval', 'queued'], ended)
    if (done) {
      // The worker checks the record before running, so a job it already took is skipped too.
      await this.queues
        .get(rec.house)
        ?.remove(rec.runId)
        .catch(() => 0)
      await this.report(done)
      await this.emitFinished(done)
      return
    }
    done = await this.opts.store.transition(jobId, ['running'], { cancelRequestedBy: by })
    if (done) {
      // Whichever worker holds the run aborts it; the worker reports `cancelled` when the tool stopped.
      await this.opts.connection.publish(cancelChannel(this.prefix), done.runId)
    }
  }

  async retry(jobId: string, by: string, key: string, byId?: number): Promise<void> {
    const rec = await this.opts.store.getRecord(jobId)
    if (!rec) return
    if (rec.retryKeys.includes(key)) {
      // A repeat after a crash between recording the run and what follows it: finish the
      // follow-ups (each is idempotent by its BullMQ id).
      await this.emitState(rec)
      if (rec.state === 'queued') await this.addRun(rec)
      if (rec.state === 'awaiting_approval') await this.scheduleExpiry(rec)
      if (rec.state === 'queued' || rec.state === 'awaiting_approval') await this.report(rec)
      return
    }
    const run = rec.run + 1
    // Whoever retries asks for the new run: the comment, the approval check (no self-approval)
    // and the signed statement name them; the first requester is kept for the record.
    const sameAsBefore = rec.requester.login.toLowerCase() === by.toLowerCase()
    const requester = { login: by, id: byId ?? (sameAsBefore ? rec.requester.id : 0) }
    const next = await this.opts.store.transition(jobId, ENDED, {
      run,
      requester,
      firstRequester: rec.firstRequester ?? rec.requester,
      runId: `${rec.id}.${key}`,
      state: rec.approvalRequired ? 'awaiting_approval' : 'queued',
      retryKeys: [...rec.retryKeys, key],
      expiresAt: rec.approvalRequired ? this.iso(rec.approvalTtlSeconds * 1000) : null,
      startedAt: null,
      commit: null,
      finishedAt: null,
      reason: `retry ${run - 1} asked by @${by}`,
      approval: null,
      approvedBy: null,
      cancelRequestedBy: null,
    })
    if (!next) return
    await this.emitState(next)
    if (next.state === 'queued') await this.addRun(next)
    else await this.scheduleExpiry(next)
    await this.report(next)
  }

  async approve(jobId: string, by: string, digest: string, comment?: ApprovalComment): Promise<void> {
    const rec = await this.opts.store.getRecord(jobId)
    if (!rec) return
    if (rec.state === 'queued' && rec.approvedBy) {
      // A repeat after a crash between approving and enqueueing (idempotent by BullMQ ids).
      await this.emitApproved(rec)
      await this.addRun(rec)
      await this.report(rec)
      return
    }
    if (rec.state === 'running') return this.answer(rec, 'approve', by, digest, undefined, comment)
    if (rec.state !== 'awaiting_approval') return
    if (rec.digest !== digest) {
      this.opts.log.warn({ jobId, digest, expected: rec.digest }, 'approval for another digest ignored')
      return
    }
    if (rec.expiresAt && Date.parse(rec.expiresAt) <= this.now()) {
      const expired = await this.opts.store.transition(jobId, ['awaiting_approval'], {
        state: 'denied',
        finishedAt: this.iso(),
        reason: `the approval request expired at ${rec.expiresAt}; \`/retry ${rec.id}\` asks again`,
      })
      if (expired) {
        await this.report(expired)
        await this.emitFinished(expired)
      }
      return
    }
    if (!this.opts.signApproval) throw new Error('this process cannot sign approvals (no approval signer)')
    const approval = await this.opts.signApproval(rec, by, comment)
    const next = await this.opts.store.transition(jobId, ['awaiting_approval'], {
      state: 'queued',
      approval,
      approvedBy: { by, at: this.iso() },
    })
    if (!next) return
    await this.emitApproved(next)
    await this.addRun(next)
    await this.report(next)
  }

  private async emitApproved(rec: JobRecord): Promise<void> {
    if (rec.approvedBy)
      await this.telemetry.emit(
        { type: 'job.approved', ...jobRef(rec), by: rec.approvedBy.by },
        `${rec.id}.${rec.run}.approved`,
      )
    await this.emitState(rec)
  }

  async deny(jobId: string, by: string, reason: string | undefined): Promise<void> {
    const rec = await this.opts.store.getRecord(jobId)
    if (rec?.state === 'running') {
      if (rec.pendingApproval)
        await this.answer(rec, 'deny', by, rec.pendingApproval.digest, reason, undefined)
      return
    }
    const next = await this.opts.store.transition(jobId, ['awaiting_approval'], {
      state: 'denied',
      finishedAt: this.iso(),
      reason: `denied by @${by}${reason ? `: ${reason}` : ''}`,
    })
    if (next) {
      await this.report(next)
      await this.emitFinished(next)
    }
  }

  /**
   * Answers what a running agent job waits for (`pendingApproval`): an approval is bound to the
   * digest the approver saw (a request replaced meanwhile is not answered) and carries the
   * router's attestation of it; the worker polls the record for the answer.
   */
  private async answer(
    rec: JobRecord,
    decision: 'approve' | 'deny',
    by: string,
    digest: string,
    reason: string | undefined,
    comment: ApprovalComment | undefined,
  ): Promise<void> {
    const pending = rec.pendingApproval
    if (!pending || pending.digest !== digest) {
      this.opts.log.warn({ jobId: rec.id, digest }, 'answer for a request the job is not waiting for ignored')
      return
    }
    if (rec.answer?.id === pending.id) return
    let approval: unknown
    if (decision === 'approve') {
      if (!this.opts.signApproval) throw new Error('this process cannot sign approvals (no approval signer)')
      approval = await this.opts.signApproval(rec, by, comment, pending.digest)
    }
    await this.opts.store.transition(rec.id, ['running'], {
      answer: {
        id: pending.id,
        decision,
        by,
        at: this.iso(),
        ...(reason !== undefined ? { reason } : {}),
        ...(approval !== undefined ? { approval } : {}),
      },
    })
  }

  /** Puts the record's current run on its house queue (idempotent: BullMQ id = run id). */
  async addRun(rec: JobRecord): Promise<void> {
    const queue = this.queues.get(rec.house)
    if (!queue) throw new Error(`no queue for house ${rec.house}`)
    const data: HouseJobData = {
      jobId: rec.id,
      runId: rec.runId,
      // A dry run runs nothing, so it needs no checkout.
      ...(rec.checkout && !rec.dryRun
        ? { checkout: rec.checkout, repo: rec.origin.repo, issue: rec.origin.issue }
        : {}),
    }
    // In line before it is on the queue, so no worker can take it before its place is known.
    if (data.issue !== undefined)
      await this.line.join(
        { repo: rec.origin.repo, issue: data.issue, house: rec.house },
        { jobId: rec.id, runId: rec.runId },
      )
    await queue.add(rec.tool, data, {
      jobId: rec.runId,
      attempts: this.opts.houseAttempts ?? 5,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    })
  }

  /**
   * The run of the same issue workspace that must end before this one starts, or undefined when it
   * is this run's turn (or it has no workspace).
   */
  async workspaceTurn(house: string, data: HouseJobData): Promise<Run | undefined> {
    if (data.issue === undefined || !data.repo) return undefined
    const queue = this.queues.get(house)
    return this.line.waitingFor({ repo: data.repo, issue: data.issue, house }, data, async (runId) =>
      queue ? (await Job.fromId(queue, runId)) !== undefined : true,
    )
  }

  /** The run ended: the next one of its issue workspace may start. */
  async leaveWorkspace(house: string, data: HouseJobData): Promise<void> {
    if (data.issue === undefined || !data.repo) return
    await this.line.leave({ repo: data.repo, issue: data.issue, house }, data)
  }

  private reportOptions(id: string): JobsOptions {
    return {
      jobId: id,
      attempts: this.opts.reportAttempts ?? 200,
      backoff: { type: 'capped' },
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 30 * 24 * 3600 },
    }
  }

  /**
   * Asks the reporter to show the record's state. One report per run and state (the BullMQ id),
   * so repeating a step never queues a second edit, and the reporter renders the record as it is
   * when it runs, so reports that arrive late cannot move the comment backwards.
   */
  async report(rec: Pick<JobRecord, 'id' | 'run' | 'state'>): Promise<void> {
    const { data, opts } = this.stateReport(rec)
    await this.reports.add('report', data, opts)
  }

  /**
   * Asks the reporter to show a running agent job's checklist (`seq`-th version): keyed by run and
   * version, so a repeated call queues nothing twice; a report taken after the run ended is skipped.
   */
  async reportProgress(rec: Pick<JobRecord, 'id' | 'run'>, seq: number): Promise<void> {
    const id = `${rec.id}.${rec.run}.progress.${seq}`
    await this.reports.add(
      'report',
      { jobId: rec.id, kind: 'progress', run: rec.run, seq } satisfies ReportData,
      {
        ...this.reportOptions(id),
        // A checklist is soon out of date: a few tries, not hours of them.
        attempts: 3,
        removeOnFail: { age: 3600 },
      },
    )
  }

  /** The report of a record's run and state: its data and options, keyed `<id>.<run>.<state>`. */
  private stateReport(rec: Pick<JobRecord, 'id' | 'run' | 'state'>): {
    id: string
    data: ReportData
    opts: JobsOptions
  } {
    const id = `${rec.id}.${rec.run}.${rec.state}`
    return {
      id,
      data: { jobId: rec.id, kind: 'state', run: rec.run, state: rec.state },
      opts: this.reportOptions(id),
    }
  }

  /**
   * Ends a run: stores its result (the first one is kept), moves the record from `queued` or
   * `running` to `patch.state` if it is still on this run, and queues the report of that state,
   * in one MULTI: one round trip, and the record never ends without its report queued. Resolves
   * to the record when the transition applied; undefined when the record was already elsewhere
   * (whoever moved it queued its report; the one queued here, keyed by a state the record is not
   * in, is skipped as superseded).
   */
  async endRun(
    rec: Pick<JobRecord, 'id' | 'run' | 'runId'>,
    patch: JobPatch & { state: JobRecord['state'] },
    result: string,
  ): Promise<JobRecord | undefined> {
    // BullMQ's client (a proxy of the shared connection) makes MULTIs that carry its scripts.
    const client = (await this.reports.client) as unknown as Redis | Cluster
    const multi = client.multi()
    this.opts.store.queueEndRun(multi, rec.id, ['queued', 'running'], patch, { runId: rec.runId, result })
    const report = this.stateReport({ id: rec.id, run: rec.run, state: patch.state })
    await new Job(this.reports, 'report', report.data, report.opts, report.id).addJob(multi as never)
    const replies = await multi.exec()
    if (!replies) throw new Error(`run ${rec.runId} was not ended: the MULTI was discarded`)
    const [endError, endReply] = replies[0] ?? [new Error('no reply to the end of the run')]
    if (endError) throw endError
    const ended = recordFromReply(endReply)
    // The report's add fails alone when Redis lost BullMQ's script (SCRIPT FLUSH, eviction) while
    // this connection thinks it loaded: the end applied, so queue the report the ordinary way,
    // which loads the script again.
    if (replies[1]?.[0] && ended) await this.report(ended)
    return ended
  }

  private async scheduleExpiry(rec: JobRecord): Promise<void> {
    if (!rec.expiresAt) return
    await this.reports.add('expire', { jobId: rec.id, kind: 'expire' } satisfies ReportData, {
      ...this.reportOptions(`${rec.id}.${rec.run}.expire`),
      delay: Math.max(0, Date.parse(rec.expiresAt) - this.now()),
    })
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()))
    await this.reports.close()
  }
}

/**
 * The pub/sub channel `/cancel` publishes run ids on; every house worker listens.
 *
 * @example
 *   cancelChannel('{uw}') // '{uw}:cancel'
 */
export function cancelChannel(prefix: string): string {
  return `${prefix}:cancel`
}
