import { z } from 'zod'
import { commandInput } from '../src/commands-core/command-input.js'
import type { CommandContext, CommandSpec, HouseInfo } from '../src/commands-core/command-spec.js'
import { didYouMean } from '../src/commands-core/did-you-mean.js'
import { codeSpan, inlineText } from '../src/commands-core/markdown.js'
import { reply } from '../src/commands-core/reply.js'
import { routeByPrediction } from '../src/commands-core/route-by-prediction.js'
import { AGENT_TASK_KINDS, agentJobName, agentTaskOf } from '../src/agents/task-kind.js'
import { toolMatches } from '../src/houses/tool-glob.js'
import type { PredictionDetail } from '../src/intelligence/intelligence-view.js'
import { formatDuration, formatPrediction } from '../src/intelligence/predict.js'
import { formatVelocity } from '../src/intelligence/velocity.js'
import { houseCannotTake } from './agent-task.js'

export const PredictArgs = commandInput({
  positionals: z
    .array(z.string())
    .min(1, 'name a tool or a task, e.g. /predict git_status')
    .max(1, 'name one tool or task; arguments are key=value'),
  named: z.record(z.string(), z.string()),
  houses: z.array(z.string()).max(1, 'name at most one @house'),
}).transform((i) => ({
  what: (i.positionals[0] as string).toLowerCase(),
  args: Object.keys(i.named).length > 0 ? i.named : undefined,
  house: i.houses[0]?.toLowerCase(),
}))
export type PredictArgs = z.infer<typeof PredictArgs>

/** The job name (`git_status`, `agent.ask`) a word names, and the houses that may run it. */
function target(ctx: CommandContext, what: string): { job: string; houses: HouseInfo[] } | { error: string } {
  const task = agentTaskOf(what) ?? AGENT_TASK_KINDS.find((k) => k === what)
  if (task)
    return {
      job: agentJobName(task),
      houses: ctx.houses.list.filter((h) => houseCannotTake(h, task) === undefined),
    }
  const tool = ctx.tools.find((t) => t.name === what)
  if (tool)
    return { job: tool.name, houses: ctx.houses.list.filter((h) => toolMatches(tool.name, h.allowedTools)) }
  const close = didYouMean(what, [...ctx.tools.map((t) => t.name), ...AGENT_TASK_KINDS])
  return {
    error: `There is no tool or task ${codeSpan(what)}.${close.length > 0 ? ` Did you mean ${close.map(codeSpan).join(' or ')}?` : ''} Tasks: ${AGENT_TASK_KINDS.map(codeSpan).join(', ')}.`,
  }
}

/** Where the job would go without `@house` (as `/run` and the task commands route), in words. */
async function routing(ctx: CommandContext, job: string, able: HouseInfo[]): Promise<string> {
  const task = agentTaskOf(job)
  let candidates = able
  let prefix = ''
  if (task) {
    const routed = ctx.houses.forTask(task)
    if ('error' in routed) return `Without \`@house\` it would not start: ${inlineText(routed.error)}.`
    if (!routed.byRole)
      return `Without \`@house\` it goes to **${inlineText(routed.house)}**: ${inlineText(routed.reason)}.`
    candidates = able.filter((h) => routed.byRole!.candidates.includes(h.name))
    prefix = `${routed.byRole.reason}; `
  }
  const def = candidates.find((h) => h.name === ctx.houses.defaultHouse)
  const ordered = def ? [def, ...candidates.filter((h) => h !== def)] : candidates
  const routed = await routeByPrediction(ctx.intelligence, ordered, job)
  return routed
    ? `Without \`@house\` it would go to **${inlineText(routed.house.name)}**: ${inlineText(prefix + routed.reason)}.`
    : 'No house that may take it without `@house` is in INTELLIGENT mode, so it is not routed by prediction.'
}

function adaptation(d: PredictionDetail): string {
  const timeout = d.timeout
    ? inlineText(d.timeout.why)
    : d.configuredTimeoutMs !== undefined
      ? `${formatDuration(d.configuredTimeoutMs)} as configured`
      : 'as configured'
  const stopped = d.retries.flatMap((r) => (r.advice.retry ? [] : [inlineText(r.advice.why)]))
  const retried = d.retries.filter((r) => r.advice.retry).map((r) => r.kind)
  const retries = [
    ...stopped,
    ...(retried.length > 0 ? [`retried: ${retried.join(', ')} (retries recovered before)`] : []),
  ]
  return `${timeout}; ${retries.length > 0 ? retries.join('; ') : 'transient failures retried as configured'}`
}

function row(h: HouseInfo, d: PredictionDetail, floor: number): string {
  const failures = d.prediction.failures.map((f) => `${f.kind} ${f.weight}`).join(', ') || 'none'
  const flag = d.belowFloor ? `⚠️ below the floor ${floor}` : 'ok'
  const basis = d.prediction.basis === 'shape' ? ' (same argument shape)' : ''
  return `| **${inlineText(h.name)}** | ${h.defaultMode} | ${inlineText(formatPrediction(d.prediction))}${basis} | ${failures} | ${h.defaultMode === 'INTELLIGENT' ? adaptation(d) : 'none (not INTELLIGENT)'} | ${flag} | ${inlineText(formatVelocity(d.velocity))} |`
}

export const predict: CommandSpec<PredictArgs> = {
  name: 'predict',
  aliases: [],
  permission: 'read',
  args: PredictArgs,
  help: {
    usage: '/predict <tool|task> [key=value ...] [@house]',
    description:
      'Shows what the bot expects of a tool or task (`ask`, `implement`, `review`) on each house that may run it, or on `@house`: the chance of success with its 90% credible interval and the runs behind it (decayed: old runs weigh less), usual and p90 duration, failures by kind, what INTELLIGENT mode adapts (the timeout from the durations, which failure kinds are still retried), whether the house is below the success floor, and the change of its 7-day success rate in a week. `key=value` arguments narrow it to calls with arguments of the same shape (names and kinds of values, never the values). Without `@house`, it also says which house `/run` or the task would go to.',
    examples: [
      '/predict git_status',
      '/predict file_read path=README.md @ezra',
      '/predict implement',
      '/predict agent.ask @ezra',
    ],
  },
  async handle(ctx, args) {
    const intel = ctx.intelligence
    if (!intel)
      return [reply(ctx, 'predict', 'Predictions are not available on this bot (no pattern store).')]
    const t = target(ctx, args.what)
    if ('error' in t) return [reply(ctx, 'predict-error', t.error)]
    let houses = t.houses
    if (args.house) {
      const h = ctx.houses.list.find((x) => x.name === args.house)
      if (!h) {
        const close = didYouMean(
          args.house,
          ctx.houses.list.map((x) => x.name),
        )
        return [
          reply(
            ctx,
            'predict-error',
            `There is no house ${codeSpan(args.house)}.${close.length > 0 ? ` Did you mean ${close.map((c) => codeSpan(`@${c}`)).join(' or ')}?` : ''}`,
          ),
        ]
      }
      if (!houses.includes(h))
        return [
          reply(
            ctx,
            'predict-error',
            `House **${inlineText(h.name)}** does not run ${codeSpan(t.job)}. See \`/houses\`.`,
          ),
        ]
      houses = [h]
    }
    if (houses.length === 0)
      return [reply(ctx, 'predict-error', `No house runs ${codeSpan(t.job)}. See \`/houses\`.`)]
    const details = await Promise.all(houses.map((h) => intel.detail(h.name, t.job, args.args)))
    const floor = intel.settings.successFloor
    const lines = [
      `Predictions for ${codeSpan(t.job)}${args.args ? ` with arguments shaped ${codeSpan(details[0]!.shape)}` : ''} (history fades with a half-life of ${intel.settings.halfLifeHours} h; ${intel.settings.minSamples} runs needed):`,
      '',
      '| House | Mode | Prediction | Failures | Adapted | Floor | Velocity (7-day rate) |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...houses.map((h, i) => row(h, details[i]!, floor)),
    ]
    if (!args.house) lines.push('', await routing(ctx, t.job, houses))
    return [reply(ctx, 'predict', lines.join('\n'))]
  },
}
