import { z } from 'zod'
import { commandInput } from '../src/commands-core/command-input.js'
import type {
  CommandContext,
  CommandSpec,
  HandlerContext,
  HouseInfo,
} from '../src/commands-core/command-spec.js'
import { didYouMean } from '../src/commands-core/did-you-mean.js'
import { codeSpan, inlineText } from '../src/commands-core/markdown.js'
import { reply } from '../src/commands-core/reply.js'
import type { Effect, JobCheckout, JobOrigin } from '../src/effects/effects.js'
import { agentJobName, type AgentTaskKind } from '../src/agents/task-kind.js'
import { renderAck } from '../src/report/render.js'
import { toolMatches } from '../src/houses/tool-glob.js'
import { ackPrediction, routeByPrediction } from '../src/commands-core/route-by-prediction.js'

// The shared shape of the agent-task commands (`/ask`, `/implement`, `/review`): one job on a
// house's agent, in a checkout of this repository. Not a command itself (commands/index.ts lists
// the specs).

/** The most characters of task text a command carries into a job (the rest is the issue's). */
export const MAX_TASK_TEXT = 4000

/**
 * The task text is the command line after the command name, without the `@house`: read from the
 * raw line, so `key=value`, `--flags` and quotes in a question stay words of the question.
 */
export const TaskArgs = commandInput({
  positionals: z.array(z.string()),
  named: z.record(z.string(), z.string()),
  houses: z.array(z.string()).max(1, 'name at most one @house'),
  mode: z.unknown(),
  dryRun: z.boolean(),
  flags: z.record(z.string(), z.unknown()),
  errors: z.array(z.string()),
}).transform((i) => ({ house: i.houses[0] }))
export type TaskArgs = z.infer<typeof TaskArgs>

/**
 * The words after `/name`, without one `@house` token, trimmed.
 *
 * @example
 *   taskText('/ask @ezra where is the retry rule?', 'ezra') // 'where is the retry rule?'
 */
export function taskText(raw: string, house: string | undefined): string {
  let text = raw.replace(/^\uFEFF?[ \t]*\/[A-Za-z][A-Za-z0-9_-]*/, '')
  if (house !== undefined) {
    const at = new RegExp(`(^|\\s)@${house.replace(/[^\w-]/g, '')}(?=\\s|$)`, 'i')
    text = text.replace(at, ' ')
  }
  return text.replace(/\s+/g, ' ').trim()
}

interface TaskCommand {
  kind: AgentTaskKind
  aliases: readonly string[]
  usage: string
  description: string
  examples: string[]
  /** Refuses the command before anything is queued (e.g. `/review` outside a pull request). */
  check?: (ctx: CommandContext, text: string) => Promise<string | undefined>
  /** Whether the command needs text (a question). */
  needsText: boolean
}

async function chooseHouse(
  ctx: CommandContext,
  kind: AgentTaskKind,
  named: string | undefined,
): Promise<{ house: HouseInfo; reason: string } | { error: string }> {
  const houses = ctx.houses.list
  const names = houses.map((h) => h.name)
  let name: string
  let reason: string
  if (named !== undefined) {
    name = named.toLowerCase()
    reason = 'named in the command'
  } else {
    const routed = ctx.houses.forTask(kind)
    if ('error' in routed) return routed
    name = routed.house
    reason = routed.reason
    // By role: among the role's houses that can take it, by prediction (docs/INTELLIGENCE.md).
    if (routed.byRole) {
      const able = routed.byRole.candidates
        .map((n) => houses.find((h) => h.name === n))
        .filter((h): h is HouseInfo => h !== undefined && houseCannotTake(h, kind) === undefined)
      const predicted = await routeByPrediction(ctx.intelligence, able, agentJobName(kind))
      if (predicted) return { house: predicted.house, reason: `${routed.byRole.reason}; ${predicted.reason}` }
    }
  }
  const house = houses.find((h) => h.name === name)
  if (!house) {
    const close = didYouMean(name, names)
    return {
      error: `There is no house ${codeSpan(name)}.${close.length > 0 ? ` Did you mean ${close.map((c) => codeSpan(`@${c}`)).join(' or ')}?` : ''} Houses: ${inlineText(names.join(', '))}.`,
    }
  }
  const cannot = houseCannotTake(house, kind)
  return cannot ? { error: cannot } : { house, reason }
}

/**
 * Why a house cannot take a task of this kind (no agent; may not write files, for an
 * implementation), or undefined when it can.
 *
 * @example
 *   houseCannotTake({ name: 'ezra', agent: undefined, ... }, 'ask') // 'House **ezra** has no agent, ...'
 */
export function houseCannotTake(house: HouseInfo, kind: AgentTaskKind): string | undefined {
  if (!house.agent)
    return `House **${inlineText(house.name)}** has no agent, so it can run tools (\`/run\`) but not take a task. Give it an \`agent:\` in the houses config (docs/AGENTS.md), or name a house that has one (see \`/houses\`).`
  if (kind === 'implement' && !toolMatches('file_write', house.allowedTools))
    return `House **${inlineText(house.name)}** may not write files, so it cannot implement. Name a house that may (see \`/houses\`).`
  return undefined
}

/** One agent task to queue: what `/ask`, `/implement`, `/review` and the assignment and label triggers decide. */
export interface AgentTaskPlan {
  kind: AgentTaskKind
  house: HouseInfo
  /** Why this house, shown in the ack and again each time the reporter edits it. */
  houseReason: string
  /** The task text (a question, instructions); empty for none. */
  text: string
  jobId: string
  /** Ledger key of the ack comment. */
  ackCommentKey: string
  requester: { login: string; id: number }
  origin: JobOrigin
}

/**
 * The effects that start an agent task: the ack comment and the `enqueueJob`, on the house's
 * terms (its mode, its approval rule, a checkout of the issue's repository where the house works
 * in one). The one place agent jobs are built, so a command and a trigger queue the same job.
 *
 * @example
 *   return agentTaskEffects(ctx, { kind: 'implement', house, houseReason, text: '', jobId, ackCommentKey, requester, origin })
 */
export async function agentTaskEffects(ctx: HandlerContext, plan: AgentTaskPlan): Promise<Effect[]> {
  const { house, kind, text } = plan
  // Read before anything is posted: a failed read is retried with the event, nothing half done.
  const checkout: JobCheckout | undefined =
    house.workspace === 'checkout' ? await ctx.checkoutTarget() : undefined
  const mode = house.defaultMode
  // A task is gated up front only where the house gates everything; an implementation's push
  // and pull request wait for an approval of the exact diff instead (docs/AGENTS.md).
  const required = mode === 'SOVEREIGN' || house.approval === 'always'
  const approvers = [...house.sovereigns]
  const ttlSeconds = ctx.config.approvalTtlSeconds
  const tool = agentJobName(kind)
  const prediction = await ackPrediction(ctx.intelligence, { house: house.name, tool, mode })
  const ackJob = {
    jobId: plan.jobId,
    house: house.name,
    tool,
    houseReason: plan.houseReason,
    requester: plan.requester.login,
    mode,
    dryRun: false,
    ...(prediction ? { prediction } : {}),
  }
  const status = required
    ? {
        state: 'awaiting_approval' as const,
        approvers,
        allowSelfApproval: house.allowSelfApproval,
        expiresAt: new Date(ctx.now().getTime() + ttlSeconds * 1000).toISOString(),
      }
    : { state: 'queued' as const }
  return [
    {
      type: 'comment',
      repo: plan.origin.repo,
      issue: plan.origin.issue,
      key: plan.ackCommentKey,
      body: renderAck(ackJob, status),
    },
    {
      type: 'enqueueJob',
      job: {
        jobId: plan.jobId,
        house: house.name,
        tool,
        args: text.length > 0 ? { text } : {},
        mode,
        dryRun: false,
        requester: plan.requester,
        origin: plan.origin,
        approval: { required, approvers, ttlSeconds, allowSelfApproval: house.allowSelfApproval },
        ackCommentKey: plan.ackCommentKey,
        houseReason: plan.houseReason,
        ...(prediction ? { prediction } : {}),
        ...(checkout ? { checkout } : {}),
      },
    },
  ]
}

/**
 * Builds the spec of an agent-task command.
 *
 * @example
 *   export const ask = agentTaskCommand({ kind: 'ask', aliases: [], usage: '/ask [@house] <question>', ... })
 */
export function agentTaskCommand(c: TaskCommand): CommandSpec<TaskArgs> {
  return {
    name: c.kind,
    aliases: c.aliases,
    // Only users with write access put text into a prompt (docs/AGENTS.md, "Safety").
    permission: 'write',
    args: TaskArgs,
    help: { usage: c.usage, description: c.description, examples: c.examples },
    async handle(ctx, args) {
      const text = taskText(ctx.command.raw, args.house)
      if (c.needsText && text.length === 0)
        return [
          reply(ctx, `${c.kind}-error`, `Say what to ${c.kind}, e.g. ${codeSpan(c.examples[0] ?? c.usage)}.`),
        ]
      if (text.length > MAX_TASK_TEXT)
        return [
          reply(
            ctx,
            `${c.kind}-error`,
            `The text is ${text.length} characters long; at most ${MAX_TASK_TEXT} fit in a command. Put the details in the issue and refer to them.`,
          ),
        ]
      const refused = c.check ? await c.check(ctx, text) : undefined
      if (refused) return [reply(ctx, `${c.kind}-error`, refused)]
      const choice = await chooseHouse(ctx, c.kind, args.house)
      if ('error' in choice) return [reply(ctx, `${c.kind}-error`, choice.error)]
      return agentTaskEffects(ctx, {
        kind: c.kind,
        house: choice.house,
        houseReason: choice.reason,
        text,
        jobId: ctx.jobId,
        ackCommentKey: ctx.commentKey(`ack:${ctx.command.index}`),
        requester: ctx.requester,
        origin: {
          deliveryId: ctx.event.deliveryId,
          repo: ctx.repo,
          issue: ctx.event.issue.number,
          commentId: ctx.event.commentId,
          commentUrl: ctx.event.htmlUrl,
          command: ctx.command.raw,
        },
      })
    },
  }
}

/**
 * The `origin.command` of a job an assignment started (no command line was written): how the
 * unassignment and a later assignment find it again.
 *
 * @example
 *   assignmentTrigger('bezalel-bot') // '(assigned to @bezalel-bot)'
 */
export function assignmentTrigger(login: string): string {
  return `(assigned to @${login.toLowerCase()})`
}

/**
 * The `origin.command` of a job a `house/<name>` label started.
 *
 * @example
 *   labelTrigger('bezalel') // '(label house/bezalel)'
 */
export function labelTrigger(house: string): string {
  return `(label house/${house})`
}
