import type { CommitState, RepoRef } from '../gitea/port.js'
import type { Effect, JobCheckout } from '../effects/effects.js'
import type { JobState } from '../jobs/jobs.js'

/** The first segment of every status context the bot sets. */
export const STATUS_CONTEXT_PREFIX = 'uni-wizard'

/** Gitea keeps at most this many characters of a status description. */
export const STATUS_DESCRIPTION_MAX = 140

/**
 * The stable context of a job's commit status: the same house and tool always set the same
 * context, so branch protection can require it by name.
 *
 * @example
 *   statusContext('bezalel', 'run_tests') // 'uni-wizard/bezalel/run_tests'
 */
export function statusContext(house: string, tool: string): string {
  return `${STATUS_CONTEXT_PREFIX}/${house}/${tool}`
}

/**
 * The commit state a job state sets. `failure`: the job ran and its work failed, was not proven
 * (`unverified`) or could not finish. `error`: nobody let it give a verdict (denied or
 * cancelled by a person). Gitea's branch protection blocks a merge on both; they differ in what
 * the person reading the PR should do (fix the change, or ask for the job again).
 *
 * @example
 *   commitStateOf('unverified') // 'failure'
 */
export function commitStateOf(state: JobState): CommitState {
  switch (state) {
    case 'queued':
    case 'awaiting_approval':
    case 'running':
      return 'pending'
    case 'success':
      return 'success'
    case 'failure':
    case 'unverified':
    case 'timeout':
      return 'failure'
    case 'denied':
    case 'cancelled':
      return 'error'
  }
}

const WORDS: Record<JobState, string> = {
  queued: 'queued',
  awaiting_approval: 'waiting for a sovereign to approve it',
  running: 'running',
  success: 'succeeded',
  failure: 'failed',
  unverified: 'ran without the proof its house requires',
  timeout: 'timed out',
  denied: 'denied',
  cancelled: 'cancelled',
}

/**
 * A short description built only from names the bot validated (house, tool, job id), never from
 * user text or output, so it is inert and holds no secret; at most 140 characters.
 *
 * @example
 *   statusDescription({ house: 'bezalel', tool: 'git_status', jobId: 'j1' }, 'success')
 *   // 'bezalel/git_status succeeded (job j1)'
 */
export function statusDescription(
  job: { house: string; tool: string; jobId: string },
  state: JobState,
): string {
  const text = `${job.house}/${job.tool} ${WORDS[state]} (job ${job.jobId})`.replace(/[^\x20-\x7e]/g, '')
  return text.length <= STATUS_DESCRIPTION_MAX ? text : `${text.slice(0, STATUS_DESCRIPTION_MAX - 1)}…`
}

/**
 * The URL of the ack comment (`#issuecomment-<id>` on the page of the command's issue or PR),
 * from the command's own URL: Gitea links a comment as its issue's page plus that fragment.
 *
 * @example
 *   ackCommentUrl('https://git.example/o/r/pulls/2#issuecomment-7', 9)
 *   // 'https://git.example/o/r/pulls/2#issuecomment-9'
 */
export function ackCommentUrl(commandUrl: string, ackCommentId: number | undefined): string | undefined {
  if (ackCommentId === undefined) return undefined
  let url: URL
  try {
    url = new URL(commandUrl)
  } catch {
    return undefined
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined
  url.hash = `issuecomment-${ackCommentId}`
  return url.toString()
}

/** What a job's commit status is computed from (a `JobRecord` or a `JobRequest` fits). */
export interface StatusJob {
  jobId: string
  house: string
  tool: string
  repo: RepoRef
  /** The command's URL (`origin.commentUrl`). */
  commandUrl: string
  checkout: JobCheckout | undefined
  /** The commit the run's checkout is at, once made. */
  commit?: string
  /**
   * The run continued local work in its issue workspace (`commit` is that work, not a commit of
   * the pull request): the verdict goes on the PR's head, saying so, never on the local commit.
   */
  continued?: boolean
}

/**
 * The ledger key that makes one status of one run exactly-once (`pending` for the run's waiting
 * states, `final` for its end). Run 1's run id is the job id, so the executor (which sets run 1's
 * `pending`) and the reporter (later runs) share the key.
 */
export function statusKey(runId: string, phase: 'pending' | 'final'): string {
  return `cs:${runId}:${phase}`
}

/**
 * The commit statuses a job in `state` sets: none unless it runs on a pull request. A waiting
 * state sets `pending` on the head commit recorded when the job was asked for. A final state sets
 * its verdict on the commit the run's checkout was at (`commit`), which is the recorded head
 * unless the PR was force-pushed meanwhile; then the recorded head, left pending, gets `error`
 * saying the job ran on another commit, so no status there claims a verdict it never had.
 *
 * @example
 *   commitStatusEffects(job, 'success', 12) // [{ type: 'setCommitStatus', state: 'success', ... }]
 */
export function commitStatusEffects(
  job: StatusJob,
  state: JobState,
  ackCommentId: number | undefined,
): Extract<Effect, { type: 'setCommitStatus' }>[] {
  const target = job.checkout?.target
  if (target?.kind !== 'pull') return []
  const common = {
    type: 'setCommitStatus' as const,
    repo: job.repo,
    context: statusContext(job.house, job.tool),
    targetUrl: ackCommentUrl(job.commandUrl, ackCommentId),
  }
  const commitState = commitStateOf(state)
  if (commitState === 'pending')
    return [{ ...common, sha: target.headSha, state: 'pending', description: statusDescription(job, state) }]
  if (job.continued && job.commit !== undefined && job.commit !== target.headSha) {
    const text = `${statusDescription(job, state)} on the issue workspace's local work at ${job.commit.slice(0, 12)}`
    return [
      {
        ...common,
        sha: target.headSha,
        state: commitState,
        description: text.slice(0, STATUS_DESCRIPTION_MAX),
      },
    ]
  }
  const ranOn = job.commit ?? target.headSha
  const effects = [{ ...common, sha: ranOn, state: commitState, description: statusDescription(job, state) }]
  if (ranOn !== target.headSha) {
    const moved = `not run on this commit: the pull request head moved to ${ranOn.slice(0, 12)} (job ${job.jobId})`
    effects.push({
      ...common,
      sha: target.headSha,
      state: 'error',
      description: moved.slice(0, STATUS_DESCRIPTION_MAX),
    })
  }
  return effects
}
