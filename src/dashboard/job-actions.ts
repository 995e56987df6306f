import { cancel } from '../../commands/cancel.js'
import { retry, RETRYABLE_STATES } from '../../commands/retry.js'
import { permits, type PermissionLevel } from '../commands-core/permission.js'
import type { RepoRef } from '../gitea/port.js'
import type { JobRecord } from '../jobs/job-store.js'
import { FINAL_STATES, type JobsControl } from '../jobs/jobs.js'
import type { DashboardUser } from './sessions.js'

/** What cancel and retry need: the job system, and who may do what on a repository. */
export interface JobActionDeps {
  /** The job system the executor applies `cancelJob`/`retryJob` effects through (BullJobs). */
  control: JobsControl | undefined
  /** A login's permission on a repository, as the router reads it for slash commands (Gitea collaborators). */
  permissionOf: ((repo: RepoRef, login: string) => Promise<PermissionLevel>) | undefined
  /** Every house's sovereigns: they may run every command (commands-core/permission). */
  sovereigns: readonly string[]
}

export type ActionName = 'cancel' | 'retry'

/** The outcome of asking: done, or refused with the HTTP status and the reason to show. */
export type ActionOutcome =
  { ok: true; message: string } | { ok: false; status: 403 | 409 | 503; message: string }

const SPECS = { cancel, retry }

/**
 * Whether `user` may cancel or retry `job`: dashboard admins may; anyone else as for the slash
 * command on the job's repository (`/cancel` and `/retry` need write access; sovereigns may run
 * everything), read the same way the router reads it.
 */
export async function mayAct(
  deps: JobActionDeps,
  user: DashboardUser,
  job: JobRecord,
  action: ActionName,
): Promise<{ allowed: true } | { allowed: false; why: string }> {
  if (user.role === 'admin') return { allowed: true }
  const needed = SPECS[action].permission
  const sovereign = deps.sovereigns.some((s) => s.toLowerCase() === user.login.toLowerCase())
  let level: PermissionLevel = sovereign ? 'sovereign' : 'none'
  if (!sovereign && deps.permissionOf) {
    try {
      level = await deps.permissionOf(job.origin.repo, user.login)
    } catch {
      level = 'none'
    }
  }
  if (permits(level, needed)) return { allowed: true }
  const repo = `${job.origin.repo.owner}/${job.origin.repo.name}`
  return {
    allowed: false,
    why: `${user.login} may not ${action} this job: /${action} on ${repo} needs ${needed} access (you have ${level}), or a dashboard admin.`,
  }
}

/**
 * Cancels or retries `job` for `user` through the job system, after the same checks as the slash
 * command: permission (`mayAct`), then state (a job that ended cannot be cancelled; only one that
 * ended in failure, timeout, cancelled, unverified or denied can be retried). `key` makes a
 * retry idempotent (a form sent twice starts one run).
 */
export async function actOnJob(
  deps: JobActionDeps,
  user: DashboardUser,
  job: JobRecord,
  action: ActionName,
  key: string,
): Promise<ActionOutcome> {
  const may = await mayAct(deps, user, job, action)
  if (!may.allowed) return { ok: false, status: 403, message: may.why }
  if (!deps.control)
    return {
      ok: false,
      status: 503,
      message: `This process runs no bot loop, so it cannot ${action} jobs; use /${action} ${job.id} in Gitea.`,
    }
  if (action === 'cancel') {
    if (FINAL_STATES.has(job.state))
      return {
        ok: false,
        status: 409,
        message: `Job ${job.id} already ended (${job.state}); nothing to cancel.`,
      }
    await deps.control.cancel(job.id, user.login, 'from the dashboard')
    return { ok: true, message: `Cancelling job ${job.id}; it says cancelled once it has stopped.` }
  }
  if (!RETRYABLE_STATES.has(job.state) && !job.retryKeys.includes(key))
    return {
      ok: false,
      status: 409,
      message: `Job ${job.id} is ${job.state.replace('_', ' ')}; only jobs that ended in failure, timeout, cancelled, unverified or denied can be retried.`,
    }
  await deps.control.retry(job.id, user.login, key)
  return {
    ok: true,
    message: `Retrying job ${job.id} (run ${job.run + 1}); its comment is updated as it runs.`,
  }
}
