// Events: webhook payload schemas, the event types the bot routes on, and the one CommentEvent shape.
export { type CommentEvent } from './comment-event.js'
export { resolveEventType, GITEA_EVENT_TYPES } from './event-type.js'
export {
  User,
  Label,
  Repository,
  Changes,
  Issue,
  Comment,
  PullRequest,
  IssuesPayload,
  IssueCommentPayload,
  PullRequestPayload,
  IssuesEventType,
  CommentEventType,
  PullRequestEventType,
  EventJob,
  isSupportedEvent,
  parsePayload,
  type SupportedEvent,
  type PayloadProblem,
} from './payloads.js'
export { toCommentEvent } from './to-comment-event.js'
