import type { RepoRef } from '../port.js'
import type { ContractViolation, GiteaContract } from './contract.js'
import type { FaultControl } from './faults.js'
import type { GitHost } from './git/git-routes.js'
import type { DoubleOAuth } from './oauth-provider.js'
import type { Renderer } from './render.js'
import type {
  ChangedFileRecord,
  CommentRecord,
  DoubleStore,
  IssueRecord,
  LabelRecord,
  RepoRecord,
  UserRecord,
} from './store.js'

/** One API request the double answered, kept for tests to assert on. */
export interface LoggedRequest {
  method: string
  path: string
  query: string
  /** The caller's login, when the token was valid. */
  login: string | undefined
  status: number
  /** The operationId in Gitea's swagger, when the path and method exist there. */
  operationId: string | undefined
  requestBody: string | undefined
}

/**
 * What the double's HTTP app needs from the double: its store and renderer, settings, contract,
 * faults and request log,
 * and the actions that change state and deliver webhooks. `GiteaDouble` implements it; the app
 * depends on this interface only, so the two files do not import each other.
 */
export interface DoubleHost extends GitHost {
  readonly baseUrl: string
  readonly strict: boolean
  readonly maxResponseItems: number
  readonly store: DoubleStore
  readonly render: Renderer
  /** Gitea's OAuth2 provider: registered applications and pending codes. */
  readonly oauth: DoubleOAuth
  readonly faults: FaultControl
  readonly contract: GiteaContract
  readonly violations: ContractViolation[]
  readonly requests: LoggedRequest[]
  refOf(repo: RepoRecord): RepoRef
  /** The files a pull request from `head` into `base` of a hosted repository changes. */
  diffFiles(repo: RepoRecord, base: string, head: string): ChangedFileRecord[]
  createLabel(
    ref: RepoRef,
    input: { name: string; color: string; description?: string; exclusive?: boolean },
  ): LabelRecord
  openIssue(
    repo: RepoRecord,
    poster: UserRecord,
    input: { title: string; body?: string; labels?: (string | number)[]; assignees?: string[] },
    pull: IssueRecord['pull'],
  ): IssueRecord
  addComment(repo: RepoRecord, issue: IssueRecord, poster: UserRecord, body: string): CommentRecord
  changeComment(repo: RepoRecord, comment: CommentRecord, editor: UserRecord, body: string): CommentRecord
  emitIssue(
    repo: RepoRecord,
    issue: IssueRecord,
    sender: UserRecord,
    action: string,
    kind: '' | 'label' | 'assign',
    changes?: { title?: { from: string }; body?: { from: string } },
  ): void
}
