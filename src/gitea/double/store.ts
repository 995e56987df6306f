import { createHash, randomBytes } from 'node:crypto'

// The double's in-memory world. Records hold what Gitea stores; render.ts turns them into
// the API's JSON. Ids come from per-table counters like Gitea's database, and issues and
// pull requests share one index space per repository, as in Gitea.

export type CollaboratorPermission = 'read' | 'write' | 'admin'

export interface UserRecord {
  id: number
  login: string
  fullName: string
  email: string
  isAdmin: boolean
  created: string
}

export interface LabelRecord {
  id: number
  name: string
  color: string
  description: string
  exclusive: boolean
}

export interface PullRecord {
  id: number
  headRef: string
  headSha: string
  baseRef: string
  baseSha: string
  merged: boolean
  files: ChangedFileRecord[]
  /** Its reviews, oldest first. */
  reviews: ReviewRecord[]
}

/** A submitted pull request review (the double keeps only what the API renders). */
export interface ReviewRecord {
  id: number
  reviewerId: number
  /** Gitea's ReviewStateType: APPROVED, COMMENT, REQUEST_CHANGES, ... */
  state: string
  body: string
  commitId: string
  /** The id of the timeline comment Gitea writes with a review; its html_url points at it. */
  commentId: number
  submitted: string
}

export interface ChangedFileRecord {
  filename: string
  status: string
  additions: number
  deletions: number
}

export interface IssueRecord {
  id: number
  number: number
  title: string
  body: string
  state: 'open' | 'closed'
  posterId: number
  labelIds: number[]
  assigneeIds: number[]
  created: string
  updated: string
  closed: string | null
  pull: PullRecord | undefined
}

export interface CommentRecord {
  id: number
  issueNumber: number
  posterId: number
  body: string
  created: string
  updated: string
}

export interface ReactionRecord {
  id: number
  userId: number
  content: string
  issueNumber: number
  commentId: number
  created: string
}

export interface StatusRecord {
  id: number
  sha: string
  state: string
  context: string
  description: string
  targetUrl: string
  creatorId: number
  created: string
}

export interface RepoRecord {
  id: number
  ownerId: number
  name: string
  description: string
  private: boolean
  created: string
  defaultBranch: string
  /** Hosted as a real bare git repository (`createRepo({ git: true })`). */
  git: boolean
  /** Branches with a protection rule that disables pushing (Gitea's default rule). */
  protectedBranches: Set<string>
  nextIndex: number
  issues: Map<number, IssueRecord>
  comments: Map<number, CommentRecord>
  labels: Map<number, LabelRecord>
  collaborators: Map<number, CollaboratorPermission>
  reactions: ReactionRecord[]
  statuses: StatusRecord[]
}

export class DoubleStore {
  readonly users = new Map<number, UserRecord>()
  readonly tokens = new Map<string, number>()
  readonly repos = new Map<string, RepoRecord>()
  /** Organisations (lower-cased name) and their members' user ids. */
  readonly orgMembers = new Map<string, Set<number>>()
  private readonly counters = new Map<string, number>()
  private clockMs = Date.parse('2026-07-20T09:00:00Z')

  nextId(table: string): number {
    const id = (this.counters.get(table) ?? 0) + 1
    this.counters.set(table, id)
    return id
  }

  /** A deterministic, strictly increasing clock so rendered timestamps are stable in tests. */
  now(): string {
    this.clockMs += 1000
    return new Date(this.clockMs).toISOString().replace(/\.\d{3}Z$/, 'Z')
  }

  userByLogin(login: string): UserRecord | undefined {
    const lower = login.toLowerCase()
    for (const user of this.users.values()) if (user.login.toLowerCase() === lower) return user
    return undefined
  }

  user(id: number): UserRecord {
    const user = this.users.get(id)
    if (!user) throw new Error(`double: no user ${id}`)
    return user
  }

  repo(owner: string, name: string): RepoRecord | undefined {
    return this.repos.get(`${owner}/${name}`.toLowerCase())
  }

  requireRepo(owner: string, name: string): RepoRecord {
    const repo = this.repo(owner, name)
    if (!repo) throw new Error(`double: no repository ${owner}/${name}`)
    return repo
  }

  ownerOf(repo: RepoRecord): UserRecord {
    return this.user(repo.ownerId)
  }

  /** Gitea's access mode for a user on a repository, as its permission endpoint reports it. */
  accessMode(repo: RepoRecord, user: UserRecord): 'none' | 'read' | 'write' | 'admin' | 'owner' {
    if (repo.ownerId === user.id) return 'owner'
    if (user.isAdmin) return 'admin'
    const collaborator = repo.collaborators.get(user.id)
    if (collaborator) return collaborator
    return repo.private ? 'none' : 'read'
  }

  canWrite(repo: RepoRecord, user: UserRecord): boolean {
    return ['write', 'admin', 'owner'].includes(this.accessMode(repo, user))
  }

  canAdmin(repo: RepoRecord, user: UserRecord): boolean {
    return ['admin', 'owner'].includes(this.accessMode(repo, user))
  }

  canRead(repo: RepoRecord, user: UserRecord): boolean {
    return this.accessMode(repo, user) !== 'none'
  }

  /**
   * Adds labels like Gitea's issue_service.AddLabels: unknown ids are skipped, and adding an
   * exclusive scoped label (`scope/name`) removes the issue's other labels of that scope.
   * Returns the ids actually added.
   */
  addLabels(repo: RepoRecord, issue: IssueRecord, ids: number[]): number[] {
    const added: number[] = []
    for (const id of ids) {
      const label = repo.labels.get(id)
      if (!label || issue.labelIds.includes(id)) continue
      const scope = exclusiveScope(label)
      if (scope !== undefined) {
        issue.labelIds = issue.labelIds.filter((other) => {
          const o = repo.labels.get(other)
          return !o || exclusiveScope(o) !== scope
        })
      }
      issue.labelIds.push(id)
      added.push(id)
    }
    return added
  }
}

/** The scope of an exclusive label: `type/bug` → `type`. Gitea ignores `exclusive` without a `/`. */
export function exclusiveScope(label: LabelRecord): string | undefined {
  if (!label.exclusive) return undefined
  const at = label.name.lastIndexOf('/')
  return at > 0 && at < label.name.length - 1 ? label.name.slice(0, at) : undefined
}

/** A random 40-hex token, the shape of a Gitea access token. */
export function newToken(): string {
  return randomBytes(20).toString('hex')
}

/** A stable fake commit sha for seeded pull requests. */
export function fakeSha(seed: string): string {
  return createHash('sha1').update(seed).digest('hex')
}
