import { z } from 'zod'
import { commandInput } from '../src/commands-core/command-input.js'
import type { CommandSpec } from '../src/commands-core/command-spec.js'
import { codeSpan } from '../src/commands-core/markdown.js'
import { reply } from '../src/commands-core/reply.js'
import type { Effect } from '../src/effects/effects.js'

export const UnlabelArgs = commandInput({
  positionals: z.array(z.string().min(1, 'a label name cannot be empty')).min(1, 'name at least one label'),
}).transform((i) => ({ labels: i.positionals }))
export type UnlabelArgs = z.infer<typeof UnlabelArgs>

export const unlabel: CommandSpec<UnlabelArgs> = {
  name: 'unlabel',
  aliases: [],
  permission: 'write',
  args: UnlabelArgs,
  help: {
    usage: '/unlabel <name...>',
    description: 'Removes labels from this issue or pull request. Quote names with spaces.',
    examples: ['/unlabel kind/bug', '/unlabel "good first issue" priority/high'],
  },
  async handle(ctx, args) {
    const current = (await ctx.issue()).labels
    const present: string[] = []
    const absent: string[] = []
    for (const name of args.labels) {
      const match = current.find((l) => l.toLowerCase() === name.toLowerCase())
      if (match) present.push(match)
      else absent.push(name)
    }
    const effects: Effect[] = []
    if (present.length > 0) {
      effects.push({ type: 'removeLabels', repo: ctx.repo, issue: ctx.event.issue.number, labels: present })
    }
    if (absent.length > 0) {
      effects.push(
        reply(ctx, 'unlabel', `Not on this issue, so not removed: ${absent.map(codeSpan).join(', ')}.`),
      )
    }
    return effects
  },
}
