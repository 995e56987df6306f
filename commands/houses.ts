import type { z } from 'zod'
import { commandInput } from '../src/commands-core/command-input.js'
import type { CommandSpec, HouseLiveness } from '../src/commands-core/command-spec.js'
import { codeSpan, inlineText } from '../src/commands-core/markdown.js'
import { reply } from '../src/commands-core/reply.js'
import type { CommandContext } from '../src/commands-core/command-spec.js'
import { formatDuration } from '../src/intelligence/predict.js'
import { formatVelocity } from '../src/intelligence/velocity.js'

export const HousesArgs = commandInput({})
export type HousesArgs = z.infer<typeof HousesArgs>

/** A house's tools for the table: "all N tools" rather than a list of every name. */
function describeTools(allowed: readonly string[], total: number): string {
  if (allowed.length === 0) return 'none'
  if (total > 0 && allowed.length >= total) return `all ${total} tools`
  return allowed.map(codeSpan).join(', ')
}

/** `, degraded: event-loop lag 240 ms > 200 ms` (naming the worker when the house has several). */
function degradedNote(degraded: HouseLiveness['degraded'], workers: number): string {
  if (!degraded || degraded.length === 0) return ''
  const each = degraded.map((d) =>
    workers > 1 ? `${codeSpan(d.worker)}: ${inlineText(d.reason)}` : inlineText(d.reason),
  )
  return `, degraded to SIMPLE: ${each.join('; ')}`
}

/** Most house × tool rows `/houses` lists (the flagged ones first). */
const HISTORY_ROWS = 40

/** What each house learned: success, time, the floor flag and the learning velocity per tool. */
async function history(ctx: CommandContext): Promise<string[]> {
  const intel = ctx.intelligence
  if (!intel) return []
  const all = await intel.overview()
  if (all.length === 0)
    return ['', 'No history yet: houses in INTELLIGENT mode learn from every run (see `/predict`).']
  const rows = [...all].sort((a, b) => Number(b.belowFloor) - Number(a.belowFloor)).slice(0, HISTORY_ROWS)
  const floor = intel.settings.successFloor
  return [
    '',
    `What the houses learned (runs decay with a half-life of ${intel.settings.halfLifeHours} h; flagged below a success rate of ${floor} once ${intel.settings.minSamples} runs say so):`,
    '',
    '| House | Tool | Success | Runs | Usual time | Floor | Velocity (7-day rate) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => {
      const p = r.prediction
      const success = `${p.successProbability.toFixed(2)} [${p.interval[0].toFixed(2)}, ${p.interval[1].toFixed(2)}]`
      const flag = r.belowFloor ? `⚠️ below ${floor}` : p.enough ? 'ok' : 'not enough history'
      return `| **${inlineText(r.house)}** | ${codeSpan(r.tool)} | ${success} | ${p.samples} | ${p.medianMs === undefined ? '-' : formatDuration(p.medianMs)} | ${flag} | ${inlineText(formatVelocity(r.velocity))} |`
    }),
    ...(all.length > rows.length ? [`… and ${all.length - rows.length} more; see \`/predict <tool>\`.`] : []),
  ]
}

export const houses: CommandSpec<HousesArgs> = {
  name: 'houses',
  aliases: [],
  permission: 'read',
  args: HousesArgs,
  help: {
    usage: '/houses',
    description:
      'Lists each house, its agent (backend and model; `/ask`, `/implement`, `/review` need one), the tools it may run, its approval policy and whether a worker is alive (and, under stress, why its INTELLIGENT jobs run as SIMPLE); then what the houses learned per tool or task: predicted success, runs, usual time, a flag when a house falls below the success floor, and the change of its 7-day success rate in a week.',
    examples: ['/houses'],
  },
  async handle(ctx) {
    const rows = await Promise.all(
      ctx.houses.list.map(async (h) => {
        const live = await ctx.houses.liveness(h.name)
        const worker = live.alive
          ? `alive (${live.workers} worker${live.workers === 1 ? '' : 's'})${degradedNote(live.degraded, live.workers)}`
          : `no live worker${live.lastSeen ? ` (last seen ${live.lastSeen})` : ''}`
        const isDefault = h.name === ctx.houses.defaultHouse ? ' (default)' : ''
        const tools = describeTools(h.allowedTools, ctx.tools.length)
        const agent = h.agent
          ? `${codeSpan(h.agent.backend)}${h.agent.model ? ` ${codeSpan(h.agent.model)}` : ''}`
          : 'none (tools only)'
        return `| **${inlineText(h.name)}**${isDefault} | ${inlineText(h.description)} | ${agent} | ${tools} | ${h.defaultMode}, approval: ${h.approval} | ${worker} |`
      }),
    )
    const table = [
      '| House | Role | Agent | Tools | Mode | Worker |',
      '| --- | --- | --- | --- | --- | --- |',
      ...rows,
    ].join('\n')
    if (ctx.houses.list.length === 0) return [reply(ctx, 'houses', 'No houses are configured.')]
    return [reply(ctx, 'houses', [table, ...(await history(ctx))].join('\n'))]
  },
}
