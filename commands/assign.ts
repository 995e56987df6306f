import { z } from 'zod'
import { commandInput } from '../src/commands-core/command-input.js'
import type { CommandSpec } from '../src/commands-core/command-spec.js'
import { didYouMean } from '../src/commands-core/did-you-mean.js'
import { codeSpan, inlineText } from '../src/commands-core/markdown.js'
import { reply } from '../src/commands-core/reply.js'
import type { Effect } from '../src/effects/effects.js'
import { houseFromLabel, houseLabel } from '../labels/house-label.js'

export const AssignArgs = commandInput({
  houses: z.array(z.string()).length(1, 'name one house, e.g. /assign @ezra'),
}).transform((i) => ({ house: i.houses[0] as string }))
export type AssignArgs = z.infer<typeof AssignArgs>

export const assign: CommandSpec<AssignArgs> = {
  name: 'assign',
  aliases: ['route'],
  permission: 'write',
  args: AssignArgs,
  help: {
    usage: '/assign @house',
    description:
      'Routes this issue to a house: sets its `house/*` label (replacing any other), so later `/run`s without `@house` go there.',
    examples: ['/assign @ezra'],
  },
  async handle(ctx, args) {
    const names = ctx.houses.list.map((h) => h.name)
    if (!names.includes(args.house)) {
      const close = didYouMean(args.house, names)
      return [
        reply(
          ctx,
          'assign',
          `There is no house ${codeSpan(args.house)}.${close.length > 0 ? ` Did you mean ${close.map((c) => codeSpan(`@${c}`)).join(' or ')}?` : ''} Houses: ${inlineText(names.join(', '))}.`,
        ),
      ]
    }
    const wanted = houseLabel(args.house)
    if (!(await ctx.repoLabels()).includes(wanted)) {
      return [
        reply(
          ctx,
          'assign',
          `The label ${codeSpan(wanted)} does not exist in this repository yet; sync the label catalogue first.`,
        ),
      ]
    }
    const others = (await ctx.issue()).labels.filter((l) => houseFromLabel(l) !== undefined && l !== wanted)
    const effects: Effect[] = []
    if (others.length > 0)
      effects.push({ type: 'removeLabels', repo: ctx.repo, issue: ctx.event.issue.number, labels: others })
    effects.push(
      { type: 'addLabels', repo: ctx.repo, issue: ctx.event.issue.number, labels: [wanted] },
      reply(
        ctx,
        'assign',
        `Routed to house **${inlineText(args.house)}**: \`/run\` without \`@house\` now runs there.`,
      ),
    )
    return effects
  },
}
