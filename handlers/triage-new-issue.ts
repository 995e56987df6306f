import type { EventHandler } from '../src/router/event-handler.js'
import type { EventJob } from '../src/events/payloads.js'

/** The issue or pull request number and the sender of an opened event, or undefined for anything else. */
function opened(job: EventJob): { number: number; sender: string } | undefined {
  if (job.action !== 'opened') return undefined
  if (job.event === 'issues') return { number: job.payload.issue.number, sender: job.payload.sender.login }
  if (job.event === 'pull_request') return { number: job.payload.number, sender: job.payload.sender.login }
  return undefined
}

/**
 * Triages a new issue or pull request (`issues` / `pull_request`, action `opened`): type,
 * priority, house, size for pull requests, `status/needs-triage` when unsure, and one comment
 * explaining the labels. The labels in the payload are not trusted: triage re-reads the issue.
 *
 * @example
 *   if (triageNewIssue.accepts(job)) await executor.apply(await triageNewIssue.handle(job, eventCtx))
 */
export const triageNewIssue: EventHandler = {
  name: 'triage-new-issue',
  accepts: (job) => opened(job) !== undefined,
  async handle(job, ctx) {
    const o = opened(job)
    if (!o || !ctx.triage || !ctx.config.enabled) return []
    if (o.sender.toLowerCase() === ctx.botLogin.toLowerCase()) return []
    const repo = { owner: job.payload.repository.owner.login, name: job.payload.repository.name }
    return ctx.triage.triage({
      repo,
      issue: o.number,
      requester: o.sender,
      deliveryId: job.deliveryId,
      commentId: undefined,
      trigger: 'opened',
    })
  },
}
