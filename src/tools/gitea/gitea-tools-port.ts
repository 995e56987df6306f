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
}
