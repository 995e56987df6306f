import type { HandlerContext } from '../src/commands-core/command-spec.js'
import type { CommentEvent } from '../src/events/comment-event.js'
import type { EventHandlerContext } from '../src/router/event-handler.js'

/** The issue a non-comment event is about, as the trigger handlers read it. */
export interface EventIssue {
  deliveryId: string
  repo: { owner: string; name: string; fullName: string; htmlUrl: string }
  number: number
  title: string
  isPull: boolean
  htmlUrl: string
  labels: string[]
  state: string
  sender: { login: string; id: number }
}

/**
 * The command-side context on the event's issue: the one a command written there would see. The
 * event is presented as the issue's body with no text, so no command can run from it.
 *
 * @example
 *   const hctx = commandContextFor(ctx, issue)
 *   if (!hctx) return []
 */
export function commandContextFor(ctx: EventHandlerContext, issue: EventIssue): HandlerContext | undefined {
  if (!ctx.commandContext) return undefined
  const event: CommentEvent = {
    deliveryId: issue.deliveryId,
    source: issue.isPull ? 'pull_request_body' : 'issue_body',
    action: 'edited',
    repo: { owner: issue.repo.owner, name: issue.repo.name, fullName: issue.repo.fullName },
    issue: {
      number: issue.number,
      title: issue.title,
      isPull: issue.isPull,
      htmlUrl: issue.htmlUrl,
      labels: issue.labels,
      state: issue.state,
    },
    commentId: undefined,
    htmlUrl: issue.htmlUrl,
    author: issue.sender,
    body: '',
  }
  return ctx.commandContext(event)
}
