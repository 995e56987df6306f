import { z } from 'zod'
import { commandInput } from '../src/commands-core/command-input.js'
import type { CommandSpec } from '../src/commands-core/command-spec.js'
import { didYouMean } from '../src/commands-core/did-you-mean.js'
import { codeSpan, inlineText } from '../src/commands-core/markdown.js'
import { reply } from '../src/commands-core/reply.js'
import type { CommandContext, HouseInfo, ToolInfo } from '../src/commands-core/command-spec.js'
import type { Effect, JobCheckout, JobMode } from '../src/effects/effects.js'
import { GitRefName } from '../src/tools/git/git-repo.js'
import { houseFromLabel } from '../labels/house-label.js'
import { renderAck } from '../src/report/render.js'
import { toolMatches } from '../src/houses/tool-glob.js'
import { ackPrediction, routeByPrediction } from '../src/commands-core/route-by-prediction.js'

const Mode = z
  .string({ error: '--mode needs a value: simple, intelligent or sovereign' })
  .transform((m) => m.toUpperCase())
  .pipe(
    z.enum(['SIMPLE', 'INTELLIGENT', 'SOVEREIGN'], {
      error: '--mode is one of simple, intelligent, sovereign',
    }),
  )

export const RunArgs = commandInput({
  positionals: z
    .array(z.string())
    .min(1, 'name the tool to run, e.g. /run git_status')
    .max(1, 'name one tool; tool arguments are key=value'),
  named: z.record(z.string(), z.string()),
  houses: z.array(z.string()).max(1, 'name at most one @house'),
  mode: Mode.optional(),
  dryRun: z.boolean(),
}).transform((i) => ({
  tool: i.positionals[0] as string,
  args: i.named,
  house: i.houses[0],
  mode: i.mode as JobMode | undefined,
  dryRun: i.dryRun,
}))
export type RunArgs = z.infer<typeof RunArgs>

interface HouseChoice {
  house: HouseInfo
  reason: string
}

/**
 * `@house`, else the issue's `house/*` label, else by prediction among the INTELLIGENT houses that
 * allow the tool (when predictions are available), else the default house if it allows the tool,
 * else the first that does.
 */
async function chooseHouse(
  ctx: CommandContext,
  args: RunArgs,
  tool: ToolInfo,
): Promise<HouseChoice | { error: string }> {
  const houses = ctx.houses.list
  const byName = (n: string) => houses.find((h) => h.name === n)
  const names = houses.map((h) => h.name)
  if (args.house) {
    const h = byName(args.house)
    if (h) return { house: h, reason: 'named in the command' }
    const close = didYouMean(args.house, names)
    return {
      error: `There is no house ${codeSpan(args.house)}.${close.length > 0 ? ` Did you mean ${close.map((c) => codeSpan(`@${c}`)).join(' or ')}?` : ''} Houses: ${inlineText(names.join(', '))}.`,
    }
  }
  const label = (await ctx.issue()).labels.find((l) => houseFromLabel(l) !== undefined)
  const fromLabel = label ? houseFromLabel(label) : undefined
  if (label && fromLabel) {
    const h = byName(fromLabel)
    if (h) return { house: h, reason: `from the label ${label}` }
    return {
      error: `The label ${codeSpan(label)} names a house that is not configured. Houses: ${inlineText(names.join(', '))}.`,
    }
  }
  const def = ctx.houses.defaultHouse ? byName(ctx.houses.defaultHouse) : undefined
  const allowed = houses.filter((h) => toolMatches(tool.name, h.allowedTools))
  // The default house first: it is explored first and wins a full tie.
  const ordered = def ? [...allowed.filter((h) => h === def), ...allowed.filter((h) => h !== def)] : allowed
  const predicted = await routeByPrediction(ctx.intelligence, ordered, tool.name)
  if (predicted) return predicted
  if (def && toolMatches(tool.name, def.allowedTools)) return { house: def, reason: 'the default house' }
  const first = houses.find((h) => toolMatches(tool.name, h.allowedTools))
  if (first) return { house: first, reason: `the first house that allows ${tool.name}` }
  return { error: `No house allows ${codeSpan(tool.name)}. See \`/houses\`.` }
}

/**
 * `--mode` if given, else the house's default; but a house whose mode is SOVEREIGN always runs
 * SOVEREIGN, or `--mode simple` would skip the approval on a house with `approvalRequired: none`.
 * The reason shown in the ack says when `--mode` was overruled.
 */
function chooseMode(
  house: HouseInfo,
  asked: JobMode | undefined,
  houseReason: string,
): { mode: JobMode; reason: string } {
  if (house.defaultMode !== 'SOVEREIGN') return { mode: asked ?? house.defaultMode, reason: houseReason }
  const overruled = asked !== undefined && asked !== 'SOVEREIGN'
  return {
    mode: 'SOVEREIGN',
    reason: overruled
      ? `${houseReason}; --mode ${asked.toLowerCase()} ignored: house ${house.name} always runs in SOVEREIGN mode`
      : houseReason,
  }
}

/**
 * Splits the checkout ref off the tool's arguments: `checkout=<ref>` always names it; `ref=<ref>`
 * does too when the tool has no `ref` argument of its own (git_log and git_checkout have one).
 */
function checkoutRef(
  tool: ToolInfo,
  args: Record<string, string>,
): { ref: string | undefined; toolArgs: Record<string, string> } | { error: string } {
  const { checkout, ...rest } = args
  const refIsCheckout = 'ref' in rest && tool.args !== undefined && !tool.args.includes('ref')
  if (checkout !== undefined && refIsCheckout)
    return { error: 'Name the checkout once: `checkout=<ref>` or `ref=<ref>`, not both.' }
  const toolArgs = { ...rest }
  let ref = checkout
  if (refIsCheckout) {
    ref = toolArgs.ref
    delete toolArgs.ref
  }
  if (ref === undefined) return { ref, toolArgs }
  const ok = GitRefName.safeParse(ref)
  if (!ok.success)
    return {
      error: `${codeSpan(ref)} is not a branch, tag or commit to check out: ${inlineText(ok.error.issues[0]?.message ?? 'not a valid git ref name')}. Name a branch, tag or commit id, e.g. \`checkout=main\`.`,
    }
  return { ref, toolArgs }
}

function approvalRequired(house: HouseInfo, mode: JobMode, tool: ToolInfo): boolean {
  if (mode === 'SOVEREIGN' || house.approval === 'always') return true
  return house.approval === 'writes' && tool.access === 'write'
}

export const run: CommandSpec<RunArgs> = {
  name: 'run',
  aliases: [],
  permission: 'write',
  args: RunArgs,
  help: {
    usage: '/run <tool> [key=value ...] [checkout=<ref>] [@house] [--mode m] [--dry-run]',
    description:
      "Runs a tool as a job on a house. Without `@house` the house comes from the issue's `house/*` label, else from predictions: among the houses in INTELLIGENT mode that allow the tool, one with too little history is explored first, then the one most likely to succeed (then the fastest) is chosen; else the default house that allows the tool. The reply says which and why, with the numbers, and an INTELLIGENT job's reply shows its prediction (see `/predict`). `--mode` picks the mode, except on a house whose mode is sovereign, which always runs (and asks approval) in sovereign mode. On a house with `workspace: checkout` the job runs in its own checkout of this repository: at the pull request's head commit on a PR, at the default branch's head on an issue; `checkout=<branch|tag|commit>` picks another (so does `ref=<...>` for a tool without a `ref` argument of its own). The ack comment names the job id and is updated in place until the result.",
    examples: [
      '/run git_status @bezalel',
      '/run file_read path=README.md',
      '/run git_status checkout=release/2.0 @bezalel',
      '/run file_read path=CHANGELOG.md ref=v1.4.0',
      '/run http_get url="https://example.com/health" @allegro --mode simple',
      '/run git_push @bezalel --mode=sovereign --dry-run',
    ],
  },
  async handle(ctx, args) {
    const toolName = args.tool.toLowerCase()
    const tool = ctx.tools.find((t) => t.name === toolName)
    if (!tool) {
      const close = didYouMean(
        toolName,
        ctx.tools.map((t) => t.name),
      )
      return [
        reply(
          ctx,
          'run-error',
          `There is no tool ${codeSpan(args.tool)}.${close.length > 0 ? ` Did you mean ${close.map(codeSpan).join(' or ')}?` : ''} See \`/houses\` for the tools each house runs.`,
        ),
      ]
    }
    const choice = await chooseHouse(ctx, args, tool)
    if ('error' in choice) return [reply(ctx, 'run-error', choice.error)]
    const { house } = choice
    if (!toolMatches(tool.name, house.allowedTools)) {
      const allowed = ctx.tools
        .filter((t) => toolMatches(t.name, house.allowedTools))
        .map((t) => codeSpan(t.name))
      return [
        reply(
          ctx,
          'run-error',
          `House **${inlineText(house.name)}** (${inlineText(choice.reason)}) does not run ${codeSpan(tool.name)}. It runs: ${allowed.join(', ') || 'nothing'}.`,
        ),
      ]
    }
    const split = checkoutRef(tool, args.args)
    if ('error' in split) return [reply(ctx, 'run-error', split.error)]
    const inCheckout = house.workspace === 'checkout'
    if (split.ref !== undefined && !inCheckout)
      return [
        reply(
          ctx,
          'run-error',
          `House **${inlineText(house.name)}** works in its own folders, not in a checkout of this repository, so there is no checkout to move to ${codeSpan(split.ref)}. Drop \`checkout=\`, or use a house with \`workspace: checkout\`.`,
        ),
      ]
    // Read before anything is posted: a failed read is retried with the event, nothing half done.
    const checkout: JobCheckout | undefined = inCheckout ? await ctx.checkoutTarget(split.ref) : undefined
    const { mode, reason } = chooseMode(house, args.mode, choice.reason)
    const required = approvalRequired(house, mode, tool)
    // The chosen house's sovereigns, not everyone's: the worker's harness accepts no one else.
    const approvers = [...house.sovereigns]
    const ttlSeconds = ctx.config.approvalTtlSeconds
    const ackCommentKey = ctx.commentKey(`ack:${ctx.command.index}`)
    const prediction = await ackPrediction(ctx.intelligence, {
      house: house.name,
      tool: tool.name,
      mode,
      args: split.toolArgs,
    })
    const job = {
      jobId: ctx.jobId,
      house: house.name,
      tool: tool.name,
      houseReason: reason,
      requester: ctx.requester.login,
      mode,
      dryRun: args.dryRun,
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
    const effects: Effect[] = [
      {
        type: 'comment',
        repo: ctx.repo,
        issue: ctx.event.issue.number,
        key: ackCommentKey,
        body: renderAck(job, status),
      },
      {
        type: 'enqueueJob',
        job: {
          jobId: ctx.jobId,
          house: house.name,
          tool: tool.name,
          args: split.toolArgs,
          mode,
          dryRun: args.dryRun,
          requester: ctx.requester,
          origin: {
            deliveryId: ctx.event.deliveryId,
            repo: ctx.repo,
            issue: ctx.event.issue.number,
            commentId: ctx.event.commentId,
            commentUrl: ctx.event.htmlUrl,
            command: ctx.command.raw,
          },
          approval: { required, approvers, ttlSeconds, allowSelfApproval: house.allowSelfApproval },
          ackCommentKey,
          houseReason: reason,
          ...(prediction ? { prediction } : {}),
          ...(checkout ? { checkout } : {}),
        },
      },
    ]
    return effects
  },
}
