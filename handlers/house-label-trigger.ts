import type { EventHandler } from '../src/router/event-handler.js'
import type { EventJob } from '../src/events/payloads.js'
import type { HouseInfo } from '../src/commands-core/command-spec.js'
import type { Effect } from '../src/effects/effects.js'
import { commentKey, jobIdForEvent } from '../src/effects/idempotency.js'
import { permits } from '../src/commands-core/permission.js'
import { mention } from '../src/commands-core/markdown.js'
import type { AgentTaskKind } from '../src/agents/task-kind.js'
import { houseFromLabel } from '../labels/house-label.js'
import { agentTaskEffects, houseCannotTake, labelTrigger } from '../commands/agent-task.js'
import { commandContextFor, type EventIssue } from './issue-event-context.js'

/** The issue or pull request of a `label_updated` event, or undefined for anything else. */
function labelled(job: EventJob): EventIssue | undefined {
  if (job.action !== 'label_updated') return undefined
  const { repository, sender } = job.payload
  const repoUrl = repository.html_url.replace(/\/$/, '')
  const repo = {
    owner: repository.owner.login,
    name: repository.name,
    fullName: repository.full_name,
    htmlUrl: repoUrl,
  }
  const common = { deliveryId: job.deliveryId, repo, sender: { login: sender.login, id: sender.id } }
  if (job.event === 'issues' || job.event === 'issue_label') {
    const { issue } = job.payload
    const isPull = issue.pull_request != null
    return {
      ...common,
      number: issue.number,
      title: issue.title,
      isPull,
      htmlUrl: issue.html_url ?? `${repoUrl}/${isPull ? 'pulls' : 'issues'}/${issue.number}`,
      labels: issue.labels.map((l) => l.name),
      state: issue.state,
    }
  }
  if (job.event === 'pull_request' || job.event === 'pull_request_label') {
    const { pull_request: pr, number } = job.payload
    return {
      ...common,
      number,
      title: pr.title,
      isPull: true,
      htmlUrl: pr.html_url,
      labels: pr.labels.map((l) => l.name),
      state: pr.state,
    }
  }
  return undefined
}

/**
 * A house's default task, the one its label starts: the implementation role implements an issue,
 * the review role reviews a pull request. `/ask` needs a question a label cannot carry, so the
 * analysis role (and any other) has none: its label only routes `/run`.
 *
 * @example
 *   defaultTask({ role: 'artificer', ... }, false) // 'implement'
 */
export function defaultTask(house: HouseInfo, isPull: boolean): AgentTaskKind | undefined {
  if (house.role === 'artificer' && !isPull) return 'implement'
  if (house.role === 'sovereign' && isPull) return 'review'
  return undefined
}

/**
 * Optional (`commands.agents.labelTriggers`, off by default): a person with write access adding a
 * `house/<name>` label starts that house's default task (`defaultTask`). Gitea's payload gives
 * the labels after the change, not the one added, so a house's label starts its task once per
 * issue: a later label change finds the job it started and leaves it. The bot's own labels
 * (triage's) never arrive here: the router drops the bot's own events.
 *
 * @example
 *   if (houseLabelTrigger.accepts(job)) await executor.apply(await houseLabelTrigger.handle(job, eventCtx))
 */
export const houseLabelTrigger: EventHandler = {
  name: 'house-label-trigger',
  accepts: (job) => labelled(job) !== undefined,
  async handle(job, ctx) {
    const issue = labelled(job)
    if (!issue) return []
    const hctx = commandContextFor(ctx, issue)
    if (!hctx || !hctx.config.agents.labelTriggers) return []
    // The payload's labels can be stale by the time the event is handled: re-read them.
    const current = await hctx.issue()
    if (current.state !== 'open') return []
    const named = new Set(current.labels.flatMap((l) => houseFromLabel(l) ?? []))
    const candidates = hctx.houses.list.flatMap((house) => {
      const kind = named.has(house.name) ? defaultTask(house, current.isPull) : undefined
      return kind && !houseCannotTake(house, kind) ? [{ house, kind }] : []
    })
    if (candidates.length === 0) return []
    const jobs = await hctx.jobs.listForIssue(hctx.repo, issue.number)
    const effects: Effect[] = []
    let allowed: boolean | undefined
    for (const { house, kind } of candidates) {
      const jobId = jobIdForEvent(issue.deliveryId, `label:${house.name}`)
      if (
        jobs.some((j) => j.id !== jobId && j.house === house.name && j.command === labelTrigger(house.name))
      )
        continue
      allowed ??= permits(await hctx.permissions(issue.sender.login), 'write')
      // Gitea lets only writers label; a reader here is a stale permission. Say nothing, start nothing.
      if (!allowed) return []
      const key = (purpose: string) =>
        commentKey({ deliveryId: issue.deliveryId, commentId: undefined }, `${purpose}:${house.name}`)
      effects.push(
        ...(await agentTaskEffects(hctx, {
          kind,
          house,
          houseReason: `label house/${house.name} added by ${mention(issue.sender.login)}: its default task`,
          text: '',
          jobId,
          ackCommentKey: key('label'),
          requester: issue.sender,
          origin: {
            deliveryId: issue.deliveryId,
            repo: hctx.repo,
            issue: issue.number,
            commentId: undefined,
            commentUrl: issue.htmlUrl,
            command: labelTrigger(house.name),
          },
        })),
      )
    }
    return effects
  },
}
