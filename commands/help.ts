import { z } from 'zod'
import { commandInput } from '../src/commands-core/command-input.js'
import { findCommand, type CommandSpec } from '../src/commands-core/command-spec.js'
import { didYouMean } from '../src/commands-core/did-you-mean.js'
import { renderCommandHelp, renderHelp } from '../src/commands-core/help.js'
import { codeSpan } from '../src/commands-core/markdown.js'
import { reply } from '../src/commands-core/reply.js'

export const HelpArgs = commandInput({
  positionals: z.array(z.string()).max(1, 'ask about one command at a time'),
}).transform((i) => ({ command: i.positionals[0]?.replace(/^\//, '').toLowerCase() }))
export type HelpArgs = z.infer<typeof HelpArgs>

export const help: CommandSpec<HelpArgs> = {
  name: 'help',
  aliases: ['h', 'commands'],
  permission: 'read',
  args: HelpArgs,
  help: {
    usage: '/help [command]',
    description: 'Lists the commands, or explains one with examples.',
    examples: ['/help', '/help run', '/help /status'],
  },
  handle(ctx, args) {
    // The list comes from the context, not an import of commands/index.ts, so there is no cycle.
    // With a dashboard, its command help page: every command on one page.
    const page = (anchor = '') =>
      ctx.commandHelpUrl ? `\n\nAll commands on one page: ${ctx.commandHelpUrl}${anchor}` : ''
    if (!args.command) return [reply(ctx, 'help', renderHelp(ctx.commands) + page())]
    const spec = findCommand(ctx.commands, args.command)
    if (spec) return [reply(ctx, 'help', renderCommandHelp(spec) + page(`#command-${spec.name}`))]
    const all = ctx.commands.flatMap((c) => [c.name, ...c.aliases])
    const close = didYouMean(args.command, all)
    return [
      reply(
        ctx,
        'help',
        `There is no command ${codeSpan(`/${args.command}`)}.${close.length > 0 ? ` Did you mean ${close.map((c) => codeSpan(`/${c}`)).join(' or ')}?` : ''}\n\n${renderHelp(ctx.commands)}`,
      ),
    ]
  },
}
