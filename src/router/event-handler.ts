import type { EventJob } from '../events/payloads.js'
import type { RepoRef } from '../gitea/port.js'
import type { Logger } from '../logger.js'
import type { LabelChangeRequest, TriageService } from '../commands-core/command-spec.js'
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
  triage: TriageEngine
  config: TriageConfig
  log: Logger
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
