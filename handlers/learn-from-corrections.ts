import type { EventHandler } from '../src/router/event-handler.js'
import type { EventJob } from '../src/events/payloads.js'

// Gitea 1.26 sends `label_updated` for additions and removals and `label_cleared` when all go.
const LABEL_ACTIONS = new Set(['label_updated', 'label_cleared'])

function isIssueLabelChange(job: EventJob): boolean {
  return job.event === 'issue_label' && LABEL_ACTIONS.has(job.action)
}

/**
 * Learns from a person's type correction (`issue_label`, `label_updated` / `label_cleared`): when
 * the issue's type label is no longer the one the bot set, the issue becomes a training example
 * for the repository's model. The payload's label list can be stale, so labels are re-read.
 *
 * @example
 *   if (learnFromCorrections.accepts(job)) await executor.apply(await learnFromCorrections.handle(job, eventCtx))
 */
export const learnFromCorrections: EventHandler = {
  name: 'learn-from-corrections',
  accepts: isIssueLabelChange,
  async handle(job, ctx) {
    if (job.event !== 'issue_label' || !isIssueLabelChange(job) || !ctx.triage || !ctx.config.enabled)
      return []
    const sender = job.payload.sender.login
    // The bot's own label changes are not corrections.
    if (sender.toLowerCase() === ctx.botLogin.toLowerCase()) return []
    return ctx.triage.learnFromLabels({
      repo: { owner: job.payload.repository.owner.login, name: job.payload.repository.name },
      issue: job.payload.issue.number,
      sender,
      deliveryId: job.deliveryId,
    })
  },
}
