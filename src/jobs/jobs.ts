import type { RepoRef } from '../gitea/port.js'
import type { ApprovalComment, JobRequest } from '../effects/effects.js'

/** Where a job is in its life, as people see it in the ack comment. */
export type JobState =
  | 'queued'
  | 'awaiting_approval'
  | 'running'
  | 'success'
  | 'failure'
  | 'unverified'
  | 'denied'
  | 'cancelled'
  | 'timeout'

/** States a job does not leave. */
export const FINAL_STATES: ReadonlySet<JobState> = new Set([
  'success',
  'failure',
  'unverified',
  'denied',
  'cancelled',
  'timeout',
])

/** What commands may read about a job. */
export interface JobView {
  id: string
  state: JobState
  house: string
  tool: string
  requester: string
  /** Digest of what would run (house, tool, args, mode); an approval is bound to it. */
  digest: string
  /** The ack comment the reporter edits, once posted. */
  ackCommentId: number | undefined
  repo: RepoRef
  issue: number
  createdAt: string
  startedAt: string | undefined
  finishedAt: string | undefined
  /** Who may approve it: the sovereigns of its house when it was asked for. */
  approvers: readonly string[]
  /** Whether its requester may approve it too. */
  allowSelfApproval: boolean
  /** The sovereign who approved the current run, once approved. */
  approvedBy: string | undefined
  /** `/retry` command keys already applied (so a retried `/retry` can repeat its effect). */
  retryKeys: readonly string[]
  /** What a running agent job waits for a sovereign to decide, if anything (`/approve` answers it). */
  pendingApproval?: { id: string; what: string; digest: string }
  /**
   * Where it works, for a job in a checkout: what was asked for (`PR #4 head`, `head of main`,
   * `ref v1`) and, once the run started, the commit it started from.
   */
  checkout?: { target: string; commit: string | undefined }
  /**
   * What started it (`origin.command`): the command line as written, or the trigger's marker
   * (`assignmentTrigger`, `labelTrigger` in commands/agent-task.ts) for a job no command started.
   */
  command?: string
}

/**
 * How the result comment, the record and `/status` name what a checkout was asked for.
 *
 * @example
 *   checkoutTargetText({ kind: 'pull', number: 4, headSha, baseRef: 'main' }) // 'PR #4 head'
 */
export function checkoutTargetText(
  t: { kind: 'pull'; number: number } | { kind: 'default'; branch: string } | { kind: 'ref'; ref: string },
): string {
  if (t.kind === 'pull') return `PR #${t.number} head`
  if (t.kind === 'default') return `head of ${t.branch}`
  return `ref ${t.ref}`
}

/**
 * Read-only view of the jobs, for `/status`, `/cancel`, `/retry`, `/approve`, `/deny`.
 * Implemented over BullMQ in src/daemon by the queue phase; tests use an in-memory one.
 *
 * @example
 *   const job = await ctx.jobs.get('j0123456789ab') // undefined when unknown
 */
export interface JobsView {
  get(jobId: string): Promise<JobView | undefined>
  /** Newest first. */
  listForIssue(repo: RepoRef, issue: number): Promise<JobView[]>
}

/**
 * What the executor asks of the job system. Every method must be idempotent: the executor may
 * repeat a call after a crash (enqueue keys on `jobId`, retry on `key`; cancelling, approving or
 * denying twice is the same as once).
 *
 * @example
 *   await jobs.enqueue({ ...effect.job, ackCommentId: 42 })
 */
export interface JobsControl {
  enqueue(job: JobRequest & { ackCommentId: number | undefined }): Promise<void>
  cancel(jobId: string, by: string, reason: string | undefined): Promise<void>
  /** `byId` is the Gitea user id of `by`, who becomes the requester of the new run. */
  retry(jobId: string, by: string, key: string, byId?: number): Promise<void>
  /** `comment` is where the sovereign approved, named in the router's signed attestation. */
  approve(jobId: string, by: string, digest: string, comment?: ApprovalComment): Promise<void>
  deny(jobId: string, by: string, reason: string | undefined): Promise<void>
}
