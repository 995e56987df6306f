import type { EventHandler } from '../src/router/event-handler.js'
import type { EventJob } from '../src/events/payloads.js'
import type { HandlerContext, HouseInfo } from '../src/commands-core/command-spec.js'
import type { Effect } from '../src/effects/effects.js'
import { commentKey, jobIdForEvent } from '../src/effects/idempotency.js'
import { PERMISSION_TEXT, permits, type PermissionLevel } from '../src/commands-core/permission.js'
import { codeSpan, inlineText, mention } from '../src/commands-core/markdown.js'
import { agentJobName } from '../src/agents/task-kind.js'
import { FINAL_STATES, type JobView } from '../src/jobs/jobs.js'
import { agentTaskEffects, assignmentTrigger, houseCannotTake } from '../commands/agent-task.js'
import { commandContextFor, type EventIssue } from './issue-event-context.js'

interface Assignment {
  action: 'assigned' | 'unassigned'
  issue: EventIssue
  /** Who is assigned after the change (Gitea's payload does not say who was added or removed). */
  assignees: Set<string>
}

/** An issue's `assigned` / `unassigned` event, or undefined for anything else (pull requests too). */
function assignment(job: EventJob): Assignment | undefined {
  if (job.event !== 'issues' && job.event !== 'issue_assign') return undefined
  if (job.action !== 'assigned' && job.action !== 'unassigned') return undefined
  const { issue, repository, sender } = job.payload
  // `/implement` on a pull request has nothing to implement; assigning one starts nothing.
  if (issue.pull_request != null) return undefined
  const repoUrl = repository.html_url.replace(/\/$/, '')
  return {
    action: job.action,
    assignees: new Set(issue.assignees.map((a) => a.login.toLowerCase())),
    issue: {
      deliveryId: job.deliveryId,
      repo: {
        owner: repository.owner.login,
        name: repository.name,
        fullName: repository.full_name,
        htmlUrl: repoUrl,
      },
      number: issue.number,
      title: issue.title,
      isPull: false,
      htmlUrl: issue.html_url ?? `${repoUrl}/issues/${issue.number}`,
      labels: issue.labels.map((l) => l.name),
      state: issue.state,
      sender: { login: sender.login, id: sender.id },
    },
  }
}

/** The jobs an assignment of this house started on the issue. */
function assignmentJobs(jobs: JobView[], house: HouseInfo & { login: string }): JobView[] {
  const marker = assignmentTrigger(house.login)
  return jobs.filter(
    (j) => j.house === house.name && j.tool === agentJobName('implement') && j.command === marker,
  )
}

function withLogin(h: HouseInfo): h is HouseInfo & { login: string } {
  return h.login !== undefined && h.login !== ''
}

/**
 * Starts `/implement` when an issue is assigned to a house's Gitea login (Copilot's "assign the
 * issue"), and cancels that job when the login is unassigned. The requester is whoever assigned,
 * who needs write access like `/implement`; the job id comes from the delivery, so a redelivered
 * event queues nothing twice. Gitea's payload gives the assignees after the change, not who was
 * added: a house already assigned (with a job of its assignment that was not cancelled) is not
 * started again when someone else is assigned.
 *
 * @example
 *   if (assignToHouse.accepts(job)) await executor.apply(await assignToHouse.handle(job, eventCtx))
 */
export const assignToHouse: EventHandler = {
  name: 'assign-to-house',
  accepts: (job) => assignment(job) !== undefined,
  async handle(job, ctx) {
    const a = assignment(job)
    if (!a) return []
    const hctx = commandContextFor(ctx, a.issue)
    if (!hctx) return []
    const houses = hctx.houses.list.filter(withLogin)
    const concerned =
      a.action === 'assigned'
        ? houses.filter((h) => a.assignees.has(h.login.toLowerCase()))
        : houses.filter((h) => !a.assignees.has(h.login.toLowerCase()))
    if (concerned.length === 0) return []
    const jobs = await hctx.jobs.listForIssue(hctx.repo, a.issue.number)
    let level: PermissionLevel | undefined
    const permission = async () => (level ??= await hctx.permissions(a.issue.sender.login))
    const effects: Effect[] = []
    for (const house of concerned) {
      const mine = assignmentJobs(jobs, house)
      effects.push(
        ...(a.action === 'assigned'
          ? await start(hctx, a, house, mine, permission)
          : await cancel(hctx, a, house, mine, permission)),
      )
    }
    return effects
  },
}

function note(hctx: HandlerContext, a: Assignment, purpose: string, body: string): Effect {
  return {
    type: 'comment',
    repo: hctx.repo,
    issue: a.issue.number,
    key: commentKey({ deliveryId: a.issue.deliveryId, commentId: undefined }, purpose),
    body,
  }
}

async function start(
  hctx: HandlerContext,
  a: Assignment,
  house: HouseInfo & { login: string },
  mine: JobView[],
  permission: () => Promise<PermissionLevel>,
): Promise<Effect[]> {
  const jobId = jobIdForEvent(a.issue.deliveryId, `assign:${house.name}`)
  // The house was assigned before and its job stands: this delivery assigned someone else.
  if (mine.some((j) => j.id !== jobId && j.state !== 'cancelled')) return []
  const sender = a.issue.sender
  const level = await permission()
  if (!permits(level, 'write'))
    return [
      note(
        hctx,
        a,
        `assign-denied:${house.name}`,
        `${mention(sender.login)}, assigning this issue to ${mention(house.login)} asks house **${inlineText(house.name)}**'s agent to implement it, which ${PERMISSION_TEXT.write} may do; your permission here is ${codeSpan(level)}. Nothing was queued: ask a collaborator to assign it, or to run \`/implement @${house.name}\`.`,
      ),
    ]
  const cannot = houseCannotTake(house, 'implement')
  if (cannot)
    return [
      note(
        hctx,
        a,
        `assign-refused:${house.name}`,
        `${mention(sender.login)}, this issue is assigned to ${mention(house.login)}, but nothing was queued: ${cannot}`,
      ),
    ]
  return agentTaskEffects(hctx, {
    kind: 'implement',
    house,
    houseReason: `assigned to @${house.login}: house ${house.name} implements this`,
    text: '',
    jobId,
    ackCommentKey: commentKey(
      { deliveryId: a.issue.deliveryId, commentId: undefined },
      `assign:${house.name}`,
    ),
    requester: sender,
    origin: {
      deliveryId: a.issue.deliveryId,
      repo: hctx.repo,
      issue: a.issue.number,
      commentId: undefined,
      commentUrl: a.issue.htmlUrl,
      command: assignmentTrigger(house.login),
    },
  })
}

async function cancel(
  hctx: HandlerContext,
  a: Assignment,
  house: HouseInfo & { login: string },
  mine: JobView[],
  permission: () => Promise<PermissionLevel>,
): Promise<Effect[]> {
  const live = mine.filter((j) => !FINAL_STATES.has(j.state))
  if (live.length === 0) return []
  const sender = a.issue.sender
  const level = await permission()
  if (!permits(level, 'write'))
    return [
      note(
        hctx,
        a,
        `unassign-denied:${house.name}`,
        `${mention(sender.login)}, unassigning ${mention(house.login)} would cancel house **${inlineText(house.name)}**'s job, which ${PERMISSION_TEXT.write} may do; your permission here is ${codeSpan(level)}. The job goes on.`,
      ),
    ]
  const lines = live.map((j) =>
    j.state === 'running'
      ? `- job ${codeSpan(j.id)} was already running: it is being stopped, and its comment will say **cancelled** when it has.`
      : `- job ${codeSpan(j.id)} (${j.state.replace('_', ' ')}) is cancelled.`,
  )
  return [
    ...live.map((j): Effect => ({
      type: 'cancelJob',
      jobId: j.id,
      by: sender.login,
      reason: `@${house.login} was unassigned`,
    })),
    note(
      hctx,
      a,
      `unassign:${house.name}`,
      [
        `${mention(sender.login)} unassigned ${mention(house.login)}, so house **${inlineText(house.name)}** stops implementing this issue:`,
        '',
        ...lines,
      ].join('\n'),
    ),
  ]
}
