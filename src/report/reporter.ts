import { cappedBackoff } from '../queue/backoff.js'
import { KEYED_WORK_MAX_STALLED, lockOptions } from '../queue/consumer-locks.js'
import { QueueWorker, UnrecoverableError, type QueueJob } from '../queue/queue-worker.js'
import type { RedisClient } from '../queue/connection.js'
import type { GiteaPort } from '../gitea/port.js'
import { markHop } from '../hop-trace.js'
import { jobFinishedEvent, jobRef } from '../jobs/job-telemetry.js'
import { NO_TELEMETRY, type TelemetrySink } from '../telemetry/telemetry-sink.js'
import type { Logger } from '../logger.js'
import { DEFAULT_PREFIX } from '../queue/connection.js'
import { REPORTS_QUEUE } from '../queue/queue-names.js'
import { ReportData } from '../jobs/bull-jobs.js'
import type { DaemonConfig } from '../config/daemon-config.js'
import type { EffectLedger } from '../effects/effect-ledger.js'
import { findKeyedComment, keyMarker } from '../effects/executor.js'
import { FINAL_STATES } from '../jobs/jobs.js'
import type { JobRecord, RedisJobStore } from '../jobs/job-store.js'
import { finalReaction, renderAck, type AckStatus, type FinalOutcome } from './render.js'
import { StoredResult } from '../jobs/stored-result.js'
import { AgentProgress } from './agent-steps.js'
import type { JobState } from '../jobs/jobs.js'
import { commitStatusEffects, statusKey } from './commit-status.js'

export interface ReporterOptions {
  /** A worker-role connection. */
  connection: RedisClient
  prefix?: string
  store: RedisJobStore
  port: GiteaPort
  ledger: EffectLedger
  settings: DaemonConfig['reporter']
  /** The bot's login: an ack found by its marker must be the bot's own comment. */
  botLogin?: string
  log: Logger
  now?: () => number
  /** Where `report.posted` (and the end of an expired approval request) goes. Default: nowhere. */
  telemetry?: TelemetrySink
}

function reasonOf(rec: JobRecord, r: StoredResult | undefined): string | undefined {
  if (rec.state === 'success') return undefined
  if (rec.reason && (rec.state === 'denied' || rec.state === 'cancelled') && !r?.error) return rec.reason
  if (r?.error) return `${r.error.reason}${r.error.fix ? `. Fix: ${r.error.fix}` : ''}`
  return rec.reason
}

/**
 * The ack comment body for a record in its current state (and its result, once final).
 *
 * @example
 *   const body = ackBody(record, stored, { outputCap: 50_000 })
 */
export function ackBody(
  rec: JobRecord,
  result: StoredResult | undefined,
  opts: { outputCap: number; agent?: AgentProgress },
): string {
  const job = {
    jobId: rec.id,
    house: rec.house,
    tool: rec.tool,
    houseReason: rec.houseReason,
    ...(rec.prediction ? { prediction: rec.prediction } : {}),
    requester: rec.requester.login,
    mode: rec.mode,
    dryRun: rec.dryRun,
    run: rec.run,
    firstRequester: rec.firstRequester?.login,
  }
  let status: AckStatus
  if (rec.state === 'queued') status = { state: 'queued' }
  else if (rec.state === 'awaiting_approval')
    status = {
      state: 'awaiting_approval',
      approvers: rec.approvers,
      allowSelfApproval: rec.allowSelfApproval ?? false,
      expiresAt: rec.expiresAt ?? '',
    }
  else if (rec.state === 'running')
    status = {
      state: 'running',
      startedAt: rec.startedAt ?? '',
      attempt: rec.run,
      ...(opts.agent ? { agent: opts.agent } : {}),
      ...(rec.pendingApproval
        ? {
            decision: {
              id: rec.pendingApproval.id,
              what: rec.pendingApproval.what,
              digest: rec.pendingApproval.digest,
              approvers: rec.approvers,
              allowSelfApproval: rec.allowSelfApproval ?? false,
              expiresAt: rec.pendingApproval.expiresAt,
            },
          }
        : {}),
    }
  else {
    status = {
      state: rec.state as FinalOutcome,
      reason: reasonOf(rec, result),
      output: result?.output ?? '',
      notes: result?.notes ?? [],
      statement: result?.statement,
      envelope: result?.envelope,
      ...(result?.agent ? { agent: result.agent } : {}),
    }
  }
  return renderAck(job, status, { outputCap: opts.outputCap })
}

/** A running reporter. */
export interface RunningReporter {
  close(): Promise<void>
}

/**
 * Starts the reporter: a BullMQ worker on `reports` that edits each job's ack comment in place to
 * show the job's current state, and puts the final reaction (🚀 or 😕) on the command comment.
 * A report renders the record as it is when the report runs, so late or repeated reports never
 * move a comment backwards, and the ack comment is edited by its stored id, never posted again.
 * While Gitea is down reports are retried with capped exponential backoff (custom strategy
 * `capped`), for hours with the defaults.
 *
 * @example
 *   const reporter = await startReporter({ connection, store, port, ledger, settings: config.file.daemon.reporter, log })
 */
export async function startReporter(opts: ReporterOptions): Promise<RunningReporter> {
  const { store, port, ledger, settings } = opts
  const log = opts.log.child({ component: 'reporter' })
  const now = opts.now ?? Date.now
  const telemetry = opts.telemetry ?? NO_TELEMETRY

  const sendStatuses = async (rec: JobRecord, state: JobState, ackId: number): Promise<void> => {
    const job = {
      jobId: rec.id,
      house: rec.house,
      tool: rec.tool,
      repo: rec.origin.repo,
      commandUrl: rec.origin.commentUrl,
      checkout: rec.checkout,
      commit: rec.commit,
      ...(rec.continued ? { continued: true } : {}),
    }
    for (const s of commitStatusEffects(job, state, ackId)) {
      try {
        await port.createCommitStatus(s.repo, s.sha, {
          state: s.state,
          context: s.context,
          description: s.description,
          targetUrl: s.targetUrl,
        })
      } catch (err) {
        // A refusal retrying cannot change (a 4xx) must not hold the report back for hours.
        if ((err as { transient?: unknown } | null)?.transient !== false) throw err
        log.warn({ err, jobId: rec.id, sha: s.sha, state: s.state }, 'commit status refused; not retried')
      }
    }
  }

  // The commit statuses of a job on a pull request, after its comment shows the state they link
  // to. Once per run and phase (ledger key), so a retried report sends nothing twice; a Gitea
  // error throws and the report is retried, which edits the comment again by id (never posts).
  const commitStatuses = async (rec: JobRecord, ackId: number): Promise<void> => {
    if (rec.checkout?.target.kind !== 'pull') return
    const final = FINAL_STATES.has(rec.state)
    const key = statusKey(rec.runId, final ? 'final' : 'pending')
    if ((await ledger.get(key)) !== undefined) return
    await sendStatuses(rec, rec.state, ackId)
    await ledger.mark(key)
    if (final) return
    // The run may have ended while this `pending` was on its way, and its final status been set
    // before it by another report: read again, and if so set the final status once more, so the
    // last word on the commit is the verdict, never a late `pending`.
    const latest = await store.getRecord(rec.id)
    if (latest && latest.runId === rec.runId && FINAL_STATES.has(latest.state))
      await sendStatuses(latest, latest.state, ackId)
  }

  /** A running agent job's checklist, as its worker last stored it (a bad one is not shown). */
  const agentProgress = async (runId: string): Promise<AgentProgress | undefined> => {
    const raw = await store.agentSteps(runId)
    if (raw === undefined) return undefined
    try {
      const parsed = AgentProgress.safeParse(JSON.parse(raw))
      return parsed.success ? parsed.data : undefined
    } catch {
      return undefined
    }
  }

  const process_ = async (job: QueueJob): Promise<string> => {
    const data = ReportData.safeParse(job.data)
    if (!data.success) throw new UnrecoverableError(`bad report data: ${data.error.issues[0]?.message}`)
    let rec = await store.getRecord(data.data.jobId)
    if (!rec) throw new UnrecoverableError(`no readable record for job ${data.data.jobId}`)
    markHop('reporter.picked', rec.origin.deliveryId, data.data.state ?? data.data.kind)
    // Superseded: the record moved on, and that move queued its own report, which will show it.
    // Skipping saves an edit per job when a fast job's `running` report is taken after it ended.
    if (
      data.data.kind === 'state' &&
      data.data.state !== undefined &&
      (data.data.state !== rec.state || data.data.run !== rec.run)
    )
      return 'superseded'
    if (data.data.kind === 'progress' && (rec.state !== 'running' || data.data.run !== rec.run))
      return 'superseded'
    if (data.data.kind === 'expire') {
      if (rec.state !== 'awaiting_approval' || !rec.expiresAt || Date.parse(rec.expiresAt) > now())
        return 'not expired'
      const expired = await store.transition(rec.id, ['awaiting_approval'], {
        state: 'denied',
        finishedAt: new Date(now()).toISOString(),
        reason: `nobody approved it before ${rec.expiresAt}; \`/retry ${rec.id}\` asks again`,
      })
      if (!expired) return 'not expired'
      rec = expired
      await telemetry.emit(jobFinishedEvent(expired, now()), `${expired.id}.${expired.run}.finished`)
    }
    // The record lacks the ack's id when the router's write of it was lost (a Redis failover) or
    // its post crashed half-way: the ledger, or the comment's marker, still finds it.
    const ackId =
      rec.ackCommentId ??
      (await findKeyedComment(
        { ledger, port, botLogin: opts.botLogin },
        rec.origin.repo,
        rec.origin.issue,
        rec.ackCommentKey,
      ))
    if (ackId === undefined) {
      if ((await ledger.get(rec.ackCommentKey))?.state === 'pending')
        throw new Error(
          `the ack comment of job ${rec.id} is pending (being posted, or a failed post the router retries); will look again`,
        )
      throw new UnrecoverableError(`job ${rec.id} has no ack comment to edit`)
    }

    const final = FINAL_STATES.has(rec.state)
    let result: StoredResult | undefined
    if (final) {
      const raw = (await store.progress(rec.runId)).result
      const parsed = raw === undefined ? undefined : StoredResult.safeParse(JSON.parse(raw))
      result = parsed?.success ? parsed.data : undefined
    }
    const agent = rec.state === 'running' ? await agentProgress(rec.runId) : undefined
    const body = `${ackBody(rec, result, { outputCap: settings.outputCap, ...(agent ? { agent } : {}) })}\n\n${keyMarker(rec.ackCommentKey)}`
    await port.editComment(rec.origin.repo, ackId, body)
    markHop('reporter.edited', rec.origin.deliveryId, rec.state)
    if (final) {
      const reaction = finalReaction(rec.state as FinalOutcome)
      if (rec.origin.commentId !== undefined)
        await port.addCommentReaction(rec.origin.repo, rec.origin.commentId, reaction)
      else await port.addIssueReaction(rec.origin.repo, rec.origin.issue, reaction)
    }
    await commitStatuses(rec, ackId)
    // A checklist edit is not a report of a state; a repeated report of one state appends nothing.
    if (data.data.kind !== 'progress')
      await telemetry.emit(
        { type: 'report.posted', ...jobRef(rec), state: rec.state },
        `${rec.id}.${rec.run}.${rec.state}.reported`,
      )
    return rec.state
  }

  const worker = new QueueWorker(REPORTS_QUEUE, process_, {
    connection: opts.connection,
    prefix: opts.prefix ?? DEFAULT_PREFIX,
    concurrency: settings.concurrency,
    ...lockOptions(settings, KEYED_WORK_MAX_STALLED),
    autorun: false,
    settings: {
      backoffStrategy: (attemptsMade: number) =>
        cappedBackoff(attemptsMade, settings.backoffMs, settings.maxBackoffMs),
    },
  })
  worker.on('error', (err) => log.error({ err }, 'reporter error'))
  worker.on('failed', (job, err) =>
    log.warn({ err, reportId: job?.id, attempts: job?.attemptsMade }, 'report failed; retrying with backoff'),
  )
  void worker.run().catch((err: unknown) => log.error({ err }, 'reporter stopped'))
  await worker.waitUntilReady()
  return {
    close: () => worker.close(),
  }
}
