import type { Json, Renderer } from './render.js'
import type { CommentRecord, IssueRecord, RepoRecord, UserRecord } from './store.js'

// Payloads in Gitea 1.26.3's shapes (modules/structs/hook.go, services/webhook/notifier.go).
// Field order follows the Go structs; optional (omitempty) fields appear only when set.

export interface OutgoingWebhook {
  event: string
  eventType: string
  payload: Json
}

type Changes = { title?: { from: string }; body?: { from: string } }

function changesPayload(changes: Changes): Json {
  return {
    ...(changes.title ? { title: changes.title } : {}),
    ...(changes.body ? { body: changes.body } : {}),
    added_labels: null,
    removed_labels: null,
  }
}

/** `issues` (or `pull_request`) with an action; label/assign actions use their fine-grained type. */
export function issueWebhook(
  render: Renderer,
  input: {
    action: string
    repo: RepoRecord
    issue: IssueRecord
    sender: UserRecord
    changes?: Changes
    /** Fine-grained type suffix: '' (issues / pull_request), 'label', 'assign', 'sync' (a push to a PR head). */
    kind?: '' | 'label' | 'assign' | 'sync'
  },
): OutgoingWebhook {
  const { action, repo, issue, sender, changes, kind = '' } = input
  const isPull = issue.pull !== undefined
  const event = isPull ? 'pull_request' : 'issues'
  const eventType = kind === '' ? event : isPull ? `pull_request_${kind}` : `issue_${kind}`
  const common = {
    repository: render.repository(repo, sender),
    sender: render.user(sender),
    commit_id: '',
  }
  const changesField = changes ? { changes: changesPayload(changes) } : {}
  if (isPull) {
    return {
      event,
      eventType,
      payload: {
        action,
        number: issue.number,
        ...changesField,
        pull_request: render.pullRequest(repo, issue, sender),
        requested_reviewer: null,
        ...common,
        review: null,
      },
    }
  }
  return {
    event,
    eventType,
    payload: { action, number: issue.number, ...changesField, issue: render.issue(repo, issue), ...common },
  }
}

/** `issue_comment`, typed `pull_request_comment` with `is_pull: true` on a pull request. */
export function commentWebhook(
  render: Renderer,
  input: {
    action: 'created' | 'edited' | 'deleted'
    repo: RepoRecord
    issue: IssueRecord
    comment: CommentRecord
    sender: UserRecord
    previousBody?: string
  },
): OutgoingWebhook {
  const { action, repo, issue, comment, sender, previousBody } = input
  const isPull = issue.pull !== undefined
  return {
    event: 'issue_comment',
    eventType: isPull ? 'pull_request_comment' : 'issue_comment',
    payload: {
      action,
      issue: render.issue(repo, issue),
      ...(isPull ? { pull_request: render.pullRequest(repo, issue, sender) } : {}),
      comment: render.comment(repo, comment),
      ...(previousBody !== undefined ? { changes: changesPayload({ body: { from: previousBody } }) } : {}),
      repository: render.repository(repo, sender),
      sender: render.user(sender),
      is_pull: isPull,
    },
  }
}
