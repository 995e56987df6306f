import type { CommentHandler } from '../src/router/comment-handler.js'
import type { EventHandler } from '../src/router/event-handler.js'
import { assignToHouse } from './assign-to-house.js'
import { houseLabelTrigger } from './house-label-trigger.js'
import { learnFromCorrections } from './learn-from-corrections.js'
import { slashCommands } from './slash-commands.js'
import { triageNewIssue } from './triage-new-issue.js'

/** Every handler of comment events, run in this order by the router. */
export const commentHandlers: readonly CommentHandler[] = [slashCommands]

/** Every handler of other issue and pull request events; the router runs those whose `accepts` is true. */
export const eventHandlers: readonly EventHandler[] = [
  triageNewIssue,
  learnFromCorrections,
  assignToHouse,
  houseLabelTrigger,
]
