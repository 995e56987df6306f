/**
 * The Gitea port: exactly the calls the bot makes. The gitea-js adapter and the test double
 * implement it; everything else codes against it. Method names and shapes are fixed by PORT.md.
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

export interface GiteaPort {
  getCurrentUser(): Promise<GiteaUser>
  getIssue(repo: RepoRef, index: number): Promise<GiteaIssue>
  /** ONE page. */
  listIssues(
    repo: RepoRef,
    opts: {
      state?: 'open' | 'closed' | 'all'
      type?: 'issues' | 'pulls'
      labels?: string[]
      page?: number
      limit?: number
    },
  ): Promise<GiteaIssue[]>
  createIssue(
    repo: RepoRef,
    input: { title: string; body?: string; labels?: number[]; assignees?: string[] },
  ): Promise<GiteaIssue>
  editIssue(
    repo: RepoRef,
    index: number,
    patch: { title?: string; body?: string; state?: 'open' | 'closed' },
  ): Promise<GiteaIssue>
  assignIssue(repo: RepoRef, index: number, assignees: string[]): Promise<GiteaIssue>
  createComment(repo: RepoRef, index: number, body: string): Promise<GiteaComment>
  editComment(repo: RepoRef, commentId: number, body: string): Promise<GiteaComment>
  /** No paging loop (Gitea ignores it on some versions). */
  listComments(repo: RepoRef, index: number): Promise<GiteaComment[]>
  /** Idempotent: an existing reaction is OK. */
  addCommentReaction(repo: RepoRef, commentId: number, reaction: Reaction): Promise<void>
  addIssueReaction(repo: RepoRef, index: number, reaction: Reaction): Promise<void>
  /** All pages, safe: stops on an empty or repeated page. */
  listLabels(repo: RepoRef): Promise<GiteaLabel[]>
  createLabel(
    repo: RepoRef,
    input: { name: string; color: string; description?: string; exclusive?: boolean },
  ): Promise<GiteaLabel>
  editLabel(
    repo: RepoRef,
    id: number,
    patch: { name?: string; color?: string; description?: string; exclusive?: boolean },
  ): Promise<GiteaLabel>
  deleteLabel(repo: RepoRef, id: number): Promise<void>
  addIssueLabels(repo: RepoRef, index: number, labelIds: number[]): Promise<GiteaLabel[]>
  removeIssueLabel(repo: RepoRef, index: number, labelId: number): Promise<void>
  /** A non-collaborator is 'none' (Gitea answers 404 for them; the adapter maps it). */
  getCollaboratorPermission(repo: RepoRef, login: string): Promise<RepoPermission>
  createCommitStatus(
    repo: RepoRef,
    sha: string,
    status: { state: CommitState; context: string; description?: string; targetUrl?: string },
  ): Promise<void>
  getPullRequest(repo: RepoRef, index: number): Promise<GiteaPullRequest>
  listPullRequestFiles(repo: RepoRef, index: number): Promise<GiteaChangedFile[]>
}
