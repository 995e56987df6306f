import { z } from 'zod'
import { TYPE_LABELS } from '../labels/names.js'
import { commandInput } from '../src/commands-core/command-input.js'
import type { CommandSpec } from '../src/commands-core/command-spec.js'
import { didYouMean } from '../src/commands-core/did-you-mean.js'
import { codeSpan } from '../src/commands-core/markdown.js'
import { reply } from '../src/commands-core/reply.js'
import type { Effect } from '../src/effects/effects.js'

export const LabelArgs = commandInput({
  positionals: z.array(z.string().min(1, 'a label name cannot be empty')).min(1, 'name at least one label'),
}).transform((i) => ({ labels: i.positionals }))
export type LabelArgs = z.infer<typeof LabelArgs>

export const label: CommandSpec<LabelArgs> = {
  name: 'label',
  aliases: [],
  permission: 'write',
  args: LabelArgs,
  help: {
    usage: '/label <name...>',
    description: 'Adds existing repository labels to this issue or pull request. Quote names with spaces.',
    examples: ['/label kind/bug', '/label kind/bug priority/high', '/label "good first issue"'],
  },
  async handle(ctx, args) {
    const repoLabels = await ctx.repoLabels()
    const known: string[] = []
    const unknown: string[] = []
    for (const name of args.labels) {
      const match =
        repoLabels.find((l) => l === name) ?? repoLabels.find((l) => l.toLowerCase() === name.toLowerCase())
      if (match) known.push(match)
      else unknown.push(name)
    }
    const effects: Effect[] = []
    if (known.length > 0)
      effects.push({ type: 'addLabels', repo: ctx.repo, issue: ctx.event.issue.number, labels: known })
    // The label change itself arrives as the bot's own event (dropped), so a type set through
    // /label is a correction triage must hear about here.
    const typeLabel = known.find((l) => (TYPE_LABELS as readonly string[]).includes(l))
    if (typeLabel && ctx.triage.learnFromLabels)
      effects.push(
        ...(await ctx.triage.learnFromLabels({
          repo: ctx.repo,
          issue: ctx.event.issue.number,
          sender: ctx.requester.login,
          deliveryId: ctx.event.deliveryId,
          typeLabel,
        })),
      )
    if (unknown.length > 0) {
      const lines = unknown.map((n) => {
        const close = didYouMean(n, repoLabels)
        return `- ${codeSpan(n)} does not exist${close.length > 0 ? `; did you mean ${close.map(codeSpan).join(' or ')}?` : '.'}`
      })
      effects.push(reply(ctx, 'label', ['Some labels were not added:', ...lines].join('\n')))
    }
    return effects
  },
}
