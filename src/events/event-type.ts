/**
 * Coarse `X-Gitea-Event` names whose fine-grained type differs, for servers (before Gitea 1.17)
 * that send no `X-Gitea-Event-Type`. `issue_comment` is handled separately: its fine-grained type
 * depends on whether the issue is a pull request.
 */
const COARSE_TO_FINE: Record<string, string> = {
  pull_request_approved: 'pull_request_review_approved',
  pull_request_rejected: 'pull_request_review_rejected',
}

function isPullComment(payload: unknown): boolean {
  if (payload === null || typeof payload !== 'object') return false
  const p = payload as { is_pull?: unknown; issue?: { pull_request?: unknown } }
  if (typeof p.is_pull === 'boolean') return p.is_pull
  return p.issue?.pull_request != null
}

function hasComment(payload: unknown): boolean {
  return payload !== null && typeof payload === 'object' && 'comment' in payload
}

/**
 * The fine-grained event type of a delivery. `X-Gitea-Event-Type` (or Forgejo's) wins; without
 * it the coarse `X-Gitea-Event` is refined from the payload, so a PR comment from an old server
 * still routes as `pull_request_comment`.
 *
 * @example
 *   resolveEventType({ eventType: undefined, event: 'issue_comment' }, { is_pull: true })
 *   // 'pull_request_comment'
 */
export function resolveEventType(
  headers: { eventType: string | undefined; event: string | undefined },
  payload: unknown,
): string | undefined {
  if (headers.eventType) return headers.eventType
  const coarse = headers.event
  if (!coarse) return undefined
  if (coarse === 'issue_comment') return isPullComment(payload) ? 'pull_request_comment' : 'issue_comment'
  // The coarse name of a review comment collides with the fine name of a PR conversation comment;
  // only the conversation comment carries a `comment` object.
  if (coarse === 'pull_request_comment')
    return hasComment(payload) ? 'pull_request_comment' : 'pull_request_review_comment'
  return COARSE_TO_FINE[coarse] ?? coarse
}

/**
 * Every `X-Gitea-Event-Type` Gitea 1.26.3 sends (modules/webhook/type.go). Used to keep metric
 * labels bounded: anything else is counted as `other`.
 */
export const GITEA_EVENT_TYPES: ReadonlySet<string> = new Set([
  'create',
  'delete',
  'fork',
  'push',
  'issues',
  'issue_assign',
  'issue_label',
  'issue_milestone',
  'issue_comment',
  'pull_request',
  'pull_request_assign',
  'pull_request_label',
  'pull_request_milestone',
  'pull_request_comment',
  'pull_request_review_approved',
  'pull_request_review_rejected',
  'pull_request_review_comment',
  'pull_request_sync',
  'pull_request_review_request',
  'wiki',
  'repository',
  'release',
  'package',
  'status',
  'workflow_run',
  'workflow_job',
])
