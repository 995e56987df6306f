/**
 * The part of the Gitea port (src/gitea/port.ts, see PORT.md) the `gitea_*` tools call, declared
 * with the same signatures and only the result fields the tools read, so the real port and the test
 * double satisfy it structurally without this folder importing them.
 */
export interface RepoRef {
  owner: string
  name: string
}

export interface GiteaToolsUser {
  login: string
}

export interface GiteaToolsIssue {
  number: number
  title: string
  body: string
  state: 'open' | 'closed'
  isPull: boolean
  user: GiteaToolsUser
  labels: { name: string }[]
  htmlUrl: string
  createdAt: string
}

export interface GiteaToolsComment {
  id: number
  body: string
  user: GiteaToolsUser
  htmlUrl: string
  createdAt: string
}

/** A repository as the tools read it (GiteaRepository in src/gitea/port.ts). */
export interface GiteaToolsRepository {
  owner: string
  name: string
  fullName: string
  defaultBranch: string
  cloneUrl: string
  htmlUrl: string
  private: boolean
  empty: boolean
}

export interface GiteaToolsBranch {
  name: string
  commitSha: string
  protected: boolean
}

/** A pull request, with the fields the tools read (GiteaPullRequest in src/gitea/port.ts). */
export interface GiteaToolsPullRequest {
  number: number
  title: string
  state: 'open' | 'closed'
  merged: boolean
  headSha: string
  headRef: string
  baseRef: string
  htmlUrl: string
}

export interface CreatePullRequestInput {
  head: string
  base: string
  title: string
  body: string
}

/**
 * No call here merges or approves a pull request, and none may be added: the bot opens pull
 * requests for people to review and merge (docs/TOOLS.md, "Pull requests").
 */
export interface GiteaToolsPort {
  getIssue(repo: RepoRef, index: number): Promise<GiteaToolsIssue>
  listIssues(
    repo: RepoRef,
    opts: {
      state?: 'open' | 'closed' | 'all'
      type?: 'issues' | 'pulls'
      labels?: string[]
      page?: number
      limit?: number
    },
  ): Promise<GiteaToolsIssue[]>
  createIssue(
    repo: RepoRef,
    input: { title: string; body?: string; labels?: number[]; assignees?: string[] },
  ): Promise<GiteaToolsIssue>
  createComment(repo: RepoRef, index: number, body: string): Promise<GiteaToolsComment>
  listComments(repo: RepoRef, index: number): Promise<GiteaToolsComment[]>
  getRepository(repo: RepoRef): Promise<GiteaToolsRepository>
  /** undefined when the branch does not exist (404). */
  getBranch(repo: RepoRef, branch: string): Promise<GiteaToolsBranch | undefined>
  /** Rejects with a 409 GiteaError when an open pull request with the same head and base exists. */
  createPullRequest(repo: RepoRef, input: CreatePullRequestInput): Promise<GiteaToolsPullRequest>
  listPullRequests(
    repo: RepoRef,
    opts: { state: 'open' | 'closed' | 'all'; page?: number; limit?: number },
  ): Promise<GiteaToolsPullRequest[]>
  getPullRequest(repo: RepoRef, index: number): Promise<GiteaToolsPullRequest>
}
