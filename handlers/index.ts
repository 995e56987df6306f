import type { CommentHandler } from '../src/daemon/handler.js'
import { slashCommands } from './slash-commands.js'

/** Every handler of comment events, run in this order by the router. */
export const commentHandlers: readonly CommentHandler[] = [slashCommands]
