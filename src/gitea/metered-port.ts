import { GiteaError } from './gitea-error.js'
import type { GiteaOperation, GiteaPort } from './port.js'

/**
 * The Gitea API route (method and path template, as in Gitea's swagger) of each port call's main
 * request: the `route` label of the Gitea metrics, never a concrete URL with owners, repositories
 * or numbers in it.
 */
export const GITEA_ROUTES: Readonly<Record<GiteaOperation, string>> = {
  getCurrentUser: 'GET /user',
  getIssue: 'GET /repos/{owner}/{repo}/issues/{index}',
  listIssues: 'GET /repos/{owner}/{repo}/issues',
  createIssue: 'POST /repos/{owner}/{repo}/issues',
  editIssue: 'PATCH /repos/{owner}/{repo}/issues/{index}',
  assignIssue: 'PATCH /repos/{owner}/{repo}/issues/{index}',
  createComment: 'POST /repos/{owner}/{repo}/issues/{index}/comments',
  editComment: 'PATCH /repos/{owner}/{repo}/issues/comments/{id}',
  listComments: 'GET /repos/{owner}/{repo}/issues/{index}/comments',
  addCommentReaction: 'POST /repos/{owner}/{repo}/issues/comments/{id}/reactions',
  addIssueReaction: 'POST /repos/{owner}/{repo}/issues/{index}/reactions',
  listLabels: 'GET /repos/{owner}/{repo}/labels',
  createLabel: 'POST /repos/{owner}/{repo}/labels',
  editLabel: 'PATCH /repos/{owner}/{repo}/labels/{id}',
  deleteLabel: 'DELETE /repos/{owner}/{repo}/labels/{id}',
  addIssueLabels: 'POST /repos/{owner}/{repo}/issues/{index}/labels',
  removeIssueLabel: 'DELETE /repos/{owner}/{repo}/issues/{index}/labels/{id}',
  getCollaboratorPermission: 'GET /repos/{owner}/{repo}/collaborators/{collaborator}/permission',
  isOrgMember: 'GET /orgs/{org}/members/{username}',
  createCommitStatus: 'POST /repos/{owner}/{repo}/statuses/{sha}',
  getPullRequest: 'GET /repos/{owner}/{repo}/pulls/{index}',
  listPullRequestFiles: 'GET /repos/{owner}/{repo}/pulls/{index}/files',
  getRepository: 'GET /repos/{owner}/{repo}',
  getBranch: 'GET /repos/{owner}/{repo}/branches/{branch}',
  createPullRequest: 'POST /repos/{owner}/{repo}/pulls',
  createPullReview: 'POST /repos/{owner}/{repo}/pulls/{index}/reviews',
  listPullRequests: 'GET /repos/{owner}/{repo}/pulls',
}

/** How one port call ended: `2xx`, the HTTP status of a failure (`404`, `503`), or `network`. */
export type GiteaCallCode = string

/** Receives each port call's route, outcome code and duration (retries included). */
export type GiteaCallObserver = (route: string, code: GiteaCallCode, seconds: number) => void

/**
 * The outcome code of a port call: `2xx` when it resolved, the status of a `GiteaError` (`network`
 * when no response arrived), `error` for anything else (a bug, not Gitea's answer).
 */
export function giteaCallCode(err: unknown): GiteaCallCode {
  if (!(err instanceof GiteaError)) return 'error'
  return err.status === 0 ? 'network' : String(err.status)
}

/**
 * A `GiteaPort` that reports every call to `observe` with its route template, how it ended and
 * how long it took (the adapter's retries included: what the bot waited for), then answers as the
 * port it wraps.
 *
 * @example
 *   const port = meteredGitea(new GiteaJsAdapter({ ... }), metrics.gitea.observe)
 */
export function meteredGitea(port: GiteaPort, observe: GiteaCallObserver): GiteaPort {
  const metered = {} as Record<GiteaOperation, (...args: unknown[]) => Promise<unknown>>
  for (const op of Object.keys(GITEA_ROUTES) as GiteaOperation[]) {
    const call = (port[op] as (...args: unknown[]) => Promise<unknown>).bind(port)
    metered[op] = async (...args) => {
      const started = performance.now()
      try {
        const result = await call(...args)
        observe(GITEA_ROUTES[op], '2xx', (performance.now() - started) / 1000)
        return result
      } catch (err) {
        observe(GITEA_ROUTES[op], giteaCallCode(err), (performance.now() - started) / 1000)
        throw err
      }
    }
  }
  return metered as unknown as GiteaPort
}
