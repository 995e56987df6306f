import type { CommentEvent } from './comment-event.js'
import type { EventJob, Issue, Repository } from './payloads.js'

function repoOf(r: Repository): CommentEvent['repo'] {
  return { owner: r.owner.login, name: r.name, fullName: r.full_name }
}

function issueUrl(repo: Repository, number: number, isPull: boolean): string {
  return `${repo.html_url.replace(/\/$/, '')}/${isPull ? 'pulls' : 'issues'}/${number}`
}

function issueOf(issue: Issue, repo: Repository, isPull: boolean): CommentEvent['issue'] {
  return {
    number: issue.number,
    title: issue.title,
    isPull,
    htmlUrl: issue.html_url ?? issueUrl(repo, issue.number, isPull),
    labels: issue.labels.map((l) => l.name),
    state: issue.state,
  }
}

/** An issue or PR body counts as written when opened, and as edited/deleted like a comment. */
const BODY_ACTIONS: Record<string, CommentEvent['action'] | undefined> = {
  opened: 'created',
  edited: 'edited',
  deleted: 'deleted',
}

const COMMENT_ACTIONS: Record<string, CommentEvent['action'] | undefined> = {
  created: 'created',
  edited: 'edited',
  deleted: 'deleted',
}

/**
 * Turns a queued event into the one comment shape command parsing sees, or undefined when the
 * event carries no text somebody wrote at the bot (labels, assignments, closes, syncs, ...).
 * Only the plain `issues` and `pull_request` event types carry bodies; `issue_label` etc. do not.
 *
 * @example
 *   const comment = toCommentEvent(EventJob.parse(bullJob.data))
 *   if (comment?.action === 'created') runCommands(comment)
 */
export function toCommentEvent(job: EventJob): CommentEvent | undefined {
  switch (job.event) {
    case 'issues': {
      const action = BODY_ACTIONS[job.action]
      if (!action) return undefined
      const { issue, repository } = job.payload
      // An issue event can describe a pull request on old servers; trust the payload, not the header.
      const isPull = issue.pull_request != null
      return {
        deliveryId: job.deliveryId,
        source: isPull ? 'pull_request_body' : 'issue_body',
        action,
        repo: repoOf(repository),
        issue: issueOf(issue, repository, isPull),
        commentId: undefined,
        htmlUrl: issue.html_url ?? issueUrl(repository, issue.number, isPull),
        author: { login: issue.user.login, id: issue.user.id },
        body: issue.body,
      }
    }
    case 'pull_request': {
      const action = BODY_ACTIONS[job.action]
      if (!action) return undefined
      const { pull_request: pr, repository, number } = job.payload
      return {
        deliveryId: job.deliveryId,
        source: 'pull_request_body',
        action,
        repo: repoOf(repository),
        issue: {
          number,
          title: pr.title,
          isPull: true,
          htmlUrl: pr.html_url,
          labels: pr.labels.map((l) => l.name),
          state: pr.state,
        },
        commentId: undefined,
        htmlUrl: pr.html_url,
        author: { login: pr.user.login, id: pr.user.id },
        body: pr.body,
      }
    }
    case 'issue_comment':
    case 'pull_request_comment': {
      const action = COMMENT_ACTIONS[job.action]
      if (!action) return undefined
      const { issue, comment, repository, is_pull } = job.payload
      // `is_pull` is missing before Gitea 1.13; `issue.pull_request` and the event type still tell.
      const isPull = is_pull ?? (issue.pull_request != null || job.event === 'pull_request_comment')
      return {
        deliveryId: job.deliveryId,
        source: isPull ? 'pull_request_comment' : 'issue_comment',
        action,
        repo: repoOf(repository),
        issue: issueOf(issue, repository, isPull),
        commentId: comment.id,
        htmlUrl: comment.html_url,
        author: { login: comment.user.login, id: comment.user.id },
        body: comment.body,
      }
    }
    default:
      return undefined
  }
}
