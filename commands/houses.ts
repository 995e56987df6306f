import type { z } from 'zod'
import { commandInput } from '../src/commands-core/command-input.js'
import type { CommandSpec, HouseLiveness } from '../src/commands-core/command-spec.js'
import { codeSpan, inlineText } from '../src/commands-core/markdown.js'
import { reply } from '../src/commands-core/reply.js'

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

export const houses: CommandSpec<HousesArgs> = {
  name: 'houses',
  aliases: [],
  permission: 'read',
  args: HousesArgs,
  help: {
    usage: '/houses',
    description:
      'Lists each house, its agent (backend and model; `/ask`, `/implement`, `/review` need one), the tools it may run, its approval policy and whether a worker is alive (and, under stress, why its INTELLIGENT jobs run as SIMPLE).',
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
    return [reply(ctx, 'houses', ctx.houses.list.length > 0 ? table : 'No houses are configured.')]
  },
}
