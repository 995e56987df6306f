import type { CommentEvent } from '../events/comment-event.js'
import type { HandlerContext } from '../commands-core/command-spec.js'
import type { Effect } from '../effects/effects.js'

/**
 * One reaction to an event, declared in its own file under `handlers/` and listed in
 * `handlers/index.ts`. It decides (returns effects); the executor acts. Throwing means a system
 * failure: the router retries the whole event, which is safe because every effect is keyed.
 *
 * @example
 *   export const slashCommands: CommentHandler = {
 *     name: 'slash-commands',
 *     async handle(event, ctx) { return [] },
 *   }
 */
export interface CommentHandler {
  name: string
  handle(event: CommentEvent, ctx: HandlerContext): Promise<Effect[]>
}
