// The router: events from the events queue to handlers, their context, claims and rate limits.
export {
  DEFAULT_CLAIM_TTL_SECONDS,
  claimKey,
  RedisCommentClaims,
  MemoryCommentClaims,
  type CommentClaims,
} from './comment-claims.js'
export { type CommentHandler } from './comment-handler.js'
export {
  type TriageRequest,
  type TriageEngine,
  type EventHandlerContext,
  type EventHandler,
} from './event-handler.js'
export { createHandlerContext, type HandlerContextDeps } from './handler-context.js'
export { RedisRateLimiter, MemoryRateLimiter } from './rate-limit.js'
export { routerApprovalSigner, strayHouseKeys } from './router-approvals.js'
export { routeEvent, startRouter, type RouterOptions, type RunningRouter } from './router.js'
