import type { CommandContext } from './command-spec.js'
import type { Effect } from '../effects/effects.js'
import { quoteCommand } from './markdown.js'

/**
 * A reply comment about the current command: quotes the command, then the text. Keyed by the
 * command's index and `purpose`, so handling the same delivery twice posts it once.
 *
 * @example
 *   return [reply(ctx, 'status', 'No jobs on this issue yet.')]
 */
export function reply(ctx: CommandContext, purpose: string, text: string): Effect {
  return {
    type: 'comment',
    repo: ctx.repo,
    issue: ctx.event.issue.number,
    key: ctx.commentKey(`${purpose}:${ctx.command.index}`),
    body: `${quoteCommand(ctx.command.raw)}\n\n${text}`,
  }
}
