import type { EventJob } from '../events/payloads.js'
import type { RepoRef } from '../gitea/port.js'
import type { Logger } from '../logger.js'
import type { HandlerContext, LabelChangeRequest, TriageService } from '../commands-core/command-spec.js'
import type { CommentEvent } from '../events/comment-event.js'
import type { Effect } from '../effects/effects.js'
import type { TriageConfig } from '../triage/triage-config.js'

/** What `triage` is asked: the TriageService request, plus why it runs (kept in the record). */
export interface TriageRequest {
  repo: RepoRef
  issue: number
  requester: string
  deliveryId: string
  commentId: number | undefined
  /** `opened` for a new issue; default `/triage by <requester>`. */
  trigger?: string
}

/**
 * Triage as issue-event handlers see it: `triage` decides labels for an issue (the same call
 * `/triage` makes), `learnFromLabels` turns a person's type correction into a training example.
 */
export interface TriageEngine extends TriageService {
  triage(request: TriageRequest): Promise<Effect[]>
  learnFromLabels(request: LabelChangeRequest): Promise<Effect[]>
}

/** What an issue-event handler sees; the router builds it once per process. */
export interface EventHandlerContext {
  botLogin: string
  /** Absent when triage is off (`triage.enabled: false`). */
  triage?: TriageEngine
  config: TriageConfig
  log: Logger
  /**
   * The read-only world a command sees on the event's issue (houses, permissions, jobs, the
   * checkout target, the `commands:` config), for handlers that start or cancel jobs the way
   * commands do. The event names the issue; it is not a comment and runs no command.
   */
  commandContext?(event: CommentEvent): HandlerContext
}

/**
 * One reaction to a non-comment event (`issues`, `pull_request`, `issue_label`, ...), declared in
 * its own file under `handlers/` and listed in `eventHandlers` (handlers/index.ts). The router
 * calls `handle` for every job whose `accepts` is true and applies the effects with the executor.
 * Throwing means a system failure: the router retries the job; the effects are keyed, so that is
 * safe.
 *
 * @example
 *   for (const h of eventHandlers)
 *     if (h.accepts(job)) await executor.apply(await h.handle(job, eventCtx))
 */
export interface EventHandler {
  name: string
  accepts(job: EventJob): boolean
  handle(job: EventJob, ctx: EventHandlerContext): Promise<Effect[]>
}
