import type { BullJobs } from '../jobs/bull-jobs.js'
import type { JobRecord, RedisJobStore } from '../jobs/job-store.js'
import type { Logger } from '../logger.js'
import type { Decision, DecisionRequest } from './agent-job-types.js'

/** Resolves after `ms`, or at once when the signal is aborted. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const t = setTimeout(done, ms)
    function done(): void {
      clearTimeout(t)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}

/** The worker's `decide`: see `decisionWaiter`. */
export type DecisionWaiter = (
  rec: JobRecord,
  request: DecisionRequest,
  signal: AbortSignal,
  jlog: Logger,
) => Promise<Decision>

/**
 * Asks a sovereign to decide what a running agent job needs (the record's `pendingApproval`,
 * shown in its comment; `/approve` or `/deny` answers it) and waits: polls the record until the
 * answer to this request, a cancel, the job's signal, or the request's expiry (the house's
 * approval TTL), which count as a deny.
 *
 * @example
 *   const decide = decisionWaiter({ store, jobs, pollMs: 500 })
 *   const d = await decide(rec, { id: 'diff-ab12', what: 'pushing …', digest }, signal, log)
 */
export function decisionWaiter(deps: {
  store: RedisJobStore
  jobs: BullJobs
  pollMs: number
}): DecisionWaiter {
  const { store, jobs } = deps
  return async (
    rec: JobRecord,
    request: DecisionRequest,
    signal: AbortSignal,
    jlog: Logger,
  ): Promise<Decision> => {
    const askedAt = Date.now()
    const expiresAt = askedAt + rec.approvalTtlSeconds * 1000
    const asked = await store.transition(rec.id, ['running'], {
      pendingApproval: {
        ...request,
        askedAt: new Date(askedAt).toISOString(),
        expiresAt: new Date(expiresAt).toISOString(),
      },
      answer: null,
    })
    if (!asked) return { decision: 'deny', reason: 'the job is no longer running' }
    jlog.info({ request: request.id }, 'waiting for a sovereign')
    await jobs.reportProgress(rec, askedAt).catch((err: unknown) => jlog.warn({ err }, 'request not shown'))
    let answer: Decision | undefined
    while (!answer) {
      await sleep(deps.pollMs, signal)
      const now = await store.getRecord(rec.id)
      if (signal.aborted || !now || now.state !== 'running' || now.cancelRequestedBy)
        answer = { decision: 'deny', reason: 'the job was cancelled' }
      else if (now.answer?.id === request.id)
        answer = {
          decision: now.answer.decision,
          by: now.answer.by,
          ...(now.answer.reason !== undefined ? { reason: now.answer.reason } : {}),
          ...(now.answer.approval !== undefined ? { approval: now.answer.approval } : {}),
        }
      else if (Date.now() >= expiresAt)
        answer = { decision: 'deny', reason: `nobody decided before ${new Date(expiresAt).toISOString()}` }
    }
    await store.transition(rec.id, ['running'], { pendingApproval: null }).catch(() => undefined)
    jlog.info({ request: request.id, decision: answer.decision, by: answer.by }, 'sovereign decided')
    return answer
  }
}
