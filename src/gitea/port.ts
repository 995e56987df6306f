/**
 * The Gitea port: exactly the calls the bot makes against Gitea, nothing more.
 *
 * The gitea-js adapter (`GiteaJsAdapter`) implements it for production; tests run the same
 * adapter against the contract-checked Gitea double. Every failure is a `GiteaError` carrying
 * the HTTP status (0 for network), the port method name and whether a retry could help.
 *
 * @example
 *   const gitea: GiteaPort = new GiteaJsAdapter({ baseUrl, token, logger })
 *   const issue = await gitea.getIssue({ owner: 'alice', name: 'demo' }, 1)
 */

export interface RepoRef {
  owner: string
  name: string
}

export interface GiteaUser {
  id: number
  login: string
}

export interface GiteaLabel {
  id: number
  name: string
  color: string
  description: string
  exclusive: boolean
}

export interface GiteaIssue {
  number: number
  title: string
  body: string
  state: 'open' | 'closed'
  isPull: boolean
  user: GiteaUser
  labels: GiteaLabel[]
  assignees: GiteaUser[]
  htmlUrl: string
  createdAt: string
  closedAt: string | null
}

export interface GiteaComment {
  id: number
  body: string
  user: GiteaUser
  htmlUrl: string
  createdAt: string
  updatedAt: string
}

export interface GiteaPullRequest {
  number: number
  title: string
  body: string
  state: 'open' | 'closed'
  merged: boolean
  headSha: string
  baseRef: string
  headRef: string
  additions: number
  deletions: number
  changedFiles: number
  user: GiteaUser
  labels: GiteaLabel[]
  htmlUrl: string
  /** Gitea's work-in-progress flag: the title starts with a WIP prefix (`WIP:` or `[WIP]` by default). */
  draft: boolean
}

export interface GiteaRepository {
  owner: string
  name: string
  fullName: string
  defaultBranch: string
  cloneUrl: string
  htmlUrl: string
  private: boolean
  /** No commits yet. */
  empty: boolean
}

export interface GiteaBranch {
  name: string
  commitSha: string
  /** A branch protection rule applies to it. */
  protected: boolean
}

export interface CreatePullRequestInput {
  /** A branch of the same repository. */
  head: string
  base: string
  /** Prefix `WIP: ` to open it as work in progress (Gitea's default WORK_IN_PROGRESS_PREFIXES). */
  title: string
  body: string
}

/**
 * A pull request review the bot posts. Always of type COMMENT: the port has no way to approve or
 * request changes, because an agent never approves (docs/AGENTS.md).
 */
export interface CreatePullReviewInput {
  /** The findings; Gitea refuses a COMMENT review without a body (422). */
  body: string
  /** The commit reviewed; Gitea takes the pull request's head when absent. */
  commitId?: string
}

/** A posted review: its id and the web URL of its place in the conversation. */
export interface GiteaPullReview {
  id: number
  url: string
}

export interface ListPullRequestsOptions {
  state: 'open' | 'closed' | 'all'
  page?: number
  limit?: number
}

export interface GiteaChangedFile {
  filename: string
  status: string
  additions: number
  deletions: number
}

export type RepoPermission = 'none' | 'read' | 'write' | 'admin' | 'owner'
export type CommitState = 'pending' | 'success' | 'error' | 'failure' | 'warning'
export type Reaction = '+1' | '-1' | 'laugh' | 'hooray' | 'confused' | 'heart' | 'rocket' | 'eyes'

export interface ListIssuesOptions {
  state?: 'open' | 'closed' | 'all'
  type?: 'issues' | 'pulls'
  labels?: string[]
  page?: number
  limit?: number
}

export interface CreateIssueInput {
  title: string
  body?: string
  labels?: number[]
  assignees?: string[]
}

export interface EditIssuePatch {
  title?: string
  body?: string
  state?: 'open' | 'closed'
}

export interface CreateLabelInput {
  name: string
  color: string
  description?: string
  exclusive?: boolean
}

export interface EditLabelPatch {
  name?: string
  color?: string
  description?: string
  exclusive?: boolean
}

export interface CommitStatusInput {
  state: CommitState
  context: string
  description?: string
  targetUrl?: string
}

export interface GiteaPort {
  getCurrentUser(): Promise<GiteaUser>
  getIssue(repo: RepoRef, index: number): Promise<GiteaIssue>
  /** One page only; the caller decides whether to ask for the next. */
  listIssues(repo: RepoRef, opts: ListIssuesOptions): Promise<GiteaIssue[]>
  createIssue(repo: RepoRef, input: CreateIssueInput): Promise<GiteaIssue>
  editIssue(repo: RepoRef, index: number, patch: EditIssuePatch): Promise<GiteaIssue>
  assignIssue(repo: RepoRef, index: number, assignees: string[]): Promise<GiteaIssue>
  createComment(repo: RepoRef, index: number, body: string): Promise<GiteaComment>
  editComment(repo: RepoRef, commentId: number, body: string): Promise<GiteaComment>
  /** No paging loop: some Gitea versions ignore paging on this endpoint. */
  listComments(repo: RepoRef, index: number): Promise<GiteaComment[]>
  /** Idempotent: a reaction that is already there is success. */
  addCommentReaction(repo: RepoRef, commentId: number, reaction: Reaction): Promise<void>
  addIssueReaction(repo: RepoRef, index: number, reaction: Reaction): Promise<void>
  /** All pages, safely: stops on an empty, short or repeated page, with a hard cap. */
  listLabels(repo: RepoRef): Promise<GiteaLabel[]>
  createLabel(repo: RepoRef, input: CreateLabelInput): Promise<GiteaLabel>
  editLabel(repo: RepoRef, id: number, patch: EditLabelPatch): Promise<GiteaLabel>
  deleteLabel(repo: RepoRef, id: number): Promise<void>
  /** Returns the issue's labels afterwards. An id the repo does not have fails with status 422. */
  addIssueLabels(repo: RepoRef, index: number, labelIds: number[]): Promise<GiteaLabel[]>
  removeIssueLabel(repo: RepoRef, index: number, labelId: number): Promise<void>
  /** A non-collaborator is 'none'; the repo owner is 'owner'. */
  getCollaboratorPermission(repo: RepoRef, login: string): Promise<RepoPermission>
  /**
   * Whether `login` is a member of organisation `org` (false for an unknown org or login). Exact
   * when the bot's account is a site admin or a member of the org; otherwise Gitea answers only
   * for public members.
   */
  isOrgMember(org: string, login: string): Promise<boolean>
  createCommitStatus(repo: RepoRef, sha: string, status: CommitStatusInput): Promise<void>
  getPullRequest(repo: RepoRef, index: number): Promise<GiteaPullRequest>
  listPullRequestFiles(repo: RepoRef, index: number): Promise<GiteaChangedFile[]>
  getRepository(repo: RepoRef): Promise<GiteaRepository>
  /** undefined when the branch does not exist (Gitea's 404). */
  getBranch(repo: RepoRef, branch: string): Promise<GiteaBranch | undefined>
  /**
   * Opens a pull request from a branch of the repository. An open pull request with the same head
   * and base already existing is a `GiteaError` with status 409; an unknown head or base is 404.
   * Like every create, never resent after a failure that may hide an applied request
   * (`mayHaveBeenApplied`): look for it with `listPullRequests` first.
   */
  createPullRequest(repo: RepoRef, input: CreatePullRequestInput): Promise<GiteaPullRequest>
  /**
   * Posts a review of type COMMENT (never APPROVED or REQUEST_CHANGES) on a pull request. An
   * unknown pull request is a `GiteaError` with status 404, an empty body 422. A create: never
   * resent after a failure that may hide an applied request (`mayHaveBeenApplied`).
   *
   * @example
   *   const { url } = await gitea.createPullReview(repo, 4, { body: 'Looks consistent; one nit: ...' })
   */
  createPullReview(repo: RepoRef, index: number, input: CreatePullReviewInput): Promise<GiteaPullReview>
  /** One page, newest first. */
  listPullRequests(repo: RepoRef, opts: ListPullRequestsOptions): Promise<GiteaPullRequest[]>
}

/** The port's method names, so operation names in errors and logs cannot drift. */
export type GiteaOperation = keyof GiteaPort
