import type { Hono } from 'hono'
import type { RepoRef } from '../port.js'
import { GiteaContract, type ContractViolation } from './contract.js'
import { createDoubleApp, type DoubleVars } from './double-app.js'
import type { DoubleHost, LoggedRequest } from './double-host.js'
import { FaultControl } from './faults.js'
import { Renderer } from './render.js'
import {
  DoubleStore,
  fakeSha,
  newToken,
  type ChangedFileRecord,
  type CollaboratorPermission,
  type CommentRecord,
  type IssueRecord,
  type LabelRecord,
  type RepoRecord,
  type UserRecord,
} from './store.js'
import { commentWebhook, issueWebhook, type OutgoingWebhook } from './webhook-payloads.js'
import { WebhookSender, type WebhookDelivery, type WebhookTarget } from './webhook-sender.js'

export interface GiteaDoubleOptions {
  /** Used in html_url/url fields until the server knows its real address. */
  baseUrl?: string
  /**
   * Check every request and response against Gitea's swagger, record violations and make
   * `assertContract()` fail on them. Default true. `false` skips the checks (nothing is recorded
   * in `violations`): for the sandbox and benchmarks, where they only cost time.
   */
  strict?: boolean
  /** Gitea's [api] MAX_RESPONSE_ITEMS: the largest page it serves. Default 50. */
  maxResponseItems?: number
  /** Webhook delivery timeout; Gitea's default is 5 s. */
  webhookTimeoutMs?: number
}

export interface SeedUser {
  login: string
  /** Defaults to a random 40-hex token; `double.tokenOf(login)` returns it. */
  token?: string
  isAdmin?: boolean
  fullName?: string
  email?: string
}

export interface SeedIssue {
  title: string
  body?: string
  /** Poster login. */
  author: string
  /** Label names or ids on the repo. */
  labels?: (string | number)[]
  assignees?: string[]
}

export interface SeedPullRequest extends SeedIssue {
  head?: string
  base?: string
  headSha?: string
  files?: ChangedFileRecord[]
}

/**
 * A Gitea 1.26.3 test double: a Hono app over in-memory state that serves the endpoints the
 * Gitea port uses with Gitea's status codes and shapes, checks every request and response
 * against Gitea's swagger, injects faults, and delivers signed webhooks like Gitea.
 *
 * @example
 *   const double = createGiteaDouble()
 *   const bot = double.createUser({ login: 'gitea-bot' })
 *   double.createUser({ login: 'alice' })
 *   const repo = double.createRepo({ owner: 'alice', name: 'demo' })
 *   double.addCollaborator(repo, 'gitea-bot', 'write')
 *   double.createIssue(repo, { title: 'Crash', author: 'alice' })
 *   const res = await double.fetch(new Request(`${double.baseUrl}/api/v1/repos/alice/demo/issues/1`,
 *     { headers: { Authorization: `token ${bot.token}` } }))
 */
export class GiteaDouble implements DoubleHost {
  readonly store = new DoubleStore()
  readonly faults = new FaultControl()
  readonly contract = GiteaContract.load()
  readonly violations: ContractViolation[] = []
  readonly requests: LoggedRequest[] = []
  readonly hooks = new Map<number, WebhookTarget[]>()
  readonly strict: boolean
  readonly maxResponseItems: number
  readonly render: Renderer
  readonly app: Hono<DoubleVars>
  private readonly sender: WebhookSender
  private url: string

  constructor(options: GiteaDoubleOptions = {}) {
    this.url = (options.baseUrl ?? 'http://gitea.test').replace(/\/+$/, '')
    this.strict = options.strict ?? true
    this.maxResponseItems = options.maxResponseItems ?? 50
    this.render = new Renderer(this.store, () => this.url)
    this.sender = new WebhookSender(options.webhookTimeoutMs)
    this.app = createDoubleApp(this)
  }

  get baseUrl(): string {
    return this.url
  }

  /** Set by startGiteaDouble once the port is known. */
  setBaseUrl(url: string): void {
    this.url = url.replace(/\/+$/, '')
  }

  /** The Hono app's fetch: what msw handlers and the HTTP server call. */
  fetch = (request: Request, env?: unknown): Promise<Response> =>
    Promise.resolve(this.app.fetch(request, env))

  // ---- contract --------------------------------------------------------------------------

  /** Throws listing every contract violation recorded so far (strict mode), then clears them. */
  assertContract(): void {
    if (!this.strict || this.violations.length === 0) return
    const list = this.violations.map(
      (v) =>
        `${v.direction} ${v.method} ${v.path}${v.status ? ` -> ${v.status}` : ''} (${v.operationId ?? '?'}): ${v.message}`,
    )
    this.violations.length = 0
    throw new Error(`Gitea contract violated:\n  ${list.join('\n  ')}`)
  }

  // ---- seeding ---------------------------------------------------------------------------

  createUser(input: SeedUser): UserRecord & { token: string } {
    if (this.store.userByLogin(input.login)) throw new Error(`double: user ${input.login} exists`)
    const user: UserRecord = {
      id: this.store.nextId('user'),
      login: input.login,
      fullName: input.fullName ?? '',
      email: input.email ?? `${input.login}@noreply.localhost`,
      isAdmin: input.isAdmin ?? false,
      created: this.store.now(),
    }
    this.store.users.set(user.id, user)
    const token = input.token ?? newToken()
    this.store.tokens.set(token, user.id)
    return { ...user, token }
  }

  tokenOf(login: string): string {
    const user = this.requireUser(login)
    for (const [token, id] of this.store.tokens) if (id === user.id) return token
    throw new Error(`double: ${login} has no token`)
  }

  createRepo(input: { owner: string; name: string; private?: boolean; description?: string }): RepoRef {
    const owner = this.requireUser(input.owner)
    if (this.store.repo(input.owner, input.name))
      throw new Error(`double: ${input.owner}/${input.name} exists`)
    const repo: RepoRecord = {
      id: this.store.nextId('repo'),
      ownerId: owner.id,
      name: input.name,
      description: input.description ?? '',
      private: input.private ?? false,
      created: this.store.now(),
      nextIndex: 1,
      issues: new Map(),
      comments: new Map(),
      labels: new Map(),
      collaborators: new Map(),
      reactions: [],
      statuses: [],
    }
    this.store.repos.set(`${owner.login}/${input.name}`.toLowerCase(), repo)
    return { owner: owner.login, name: input.name }
  }

  addCollaborator(ref: RepoRef, login: string, permission: CollaboratorPermission): void {
    this.repoOf(ref).collaborators.set(this.requireUser(login).id, permission)
  }

  createLabel(
    ref: RepoRef,
    input: { name: string; color: string; description?: string; exclusive?: boolean },
  ): LabelRecord {
    const label: LabelRecord = {
      id: this.store.nextId('label'),
      name: input.name,
      color: input.color.replace(/^#/, '').toLowerCase(),
      description: input.description ?? '',
      exclusive: input.exclusive ?? false,
    }
    this.repoOf(ref).labels.set(label.id, label)
    return label
  }

  /** A person opens an issue: delivers `issues` / `opened`. */
  createIssue(ref: RepoRef, input: SeedIssue): IssueRecord {
    return this.openIssue(this.repoOf(ref), this.requireUser(input.author), input, undefined)
  }

  /** A person opens a pull request: delivers `pull_request` / `opened`. */
  openPullRequest(ref: RepoRef, input: SeedPullRequest): IssueRecord {
    const head = input.head ?? `feature-${this.store.nextId('branch')}`
    const pull = {
      id: this.store.nextId('pull'),
      headRef: head,
      headSha: input.headSha ?? fakeSha(`${ref.owner}/${ref.name}:${head}`),
      baseRef: input.base ?? 'main',
      baseSha: fakeSha(`${ref.owner}/${ref.name}:${input.base ?? 'main'}`),
      merged: false,
      files: input.files ?? [],
    }
    return this.openIssue(this.repoOf(ref), this.requireUser(input.author), input, pull)
  }

  /** A person comments: delivers `issue_comment` / `created`. */
  createComment(ref: RepoRef, index: number, input: { author: string; body: string }): CommentRecord {
    const repo = this.repoOf(ref)
    return this.addComment(repo, this.issueOf(repo, index), this.requireUser(input.author), input.body)
  }

  /** A person edits a comment: delivers `issue_comment` / `edited` with `changes.body.from`. */
  editComment(ref: RepoRef, commentId: number, input: { editor: string; body: string }): CommentRecord {
    const repo = this.repoOf(ref)
    const comment = repo.comments.get(commentId)
    if (!comment) throw new Error(`double: no comment ${commentId}`)
    return this.changeComment(repo, comment, this.requireUser(input.editor), input.body)
  }

  /** Registers a webhook on the repository, like Gitea's repo webhook settings. */
  addHook(ref: RepoRef, target: WebhookTarget): void {
    const repo = this.repoOf(ref)
    this.hooks.set(repo.id, [...(this.hooks.get(repo.id) ?? []), target])
  }

  /** Delivers an arbitrary payload to the repository's hooks, signed like Gitea. */
  sendWebhook(ref: RepoRef, event: string, payload: unknown, eventType: string = event): WebhookDelivery[] {
    return this.sender.send(this.hooks.get(this.repoOf(ref).id) ?? [], event, eventType, payload)
  }

  /** Every delivery so far, with the receiver's status once it answered. */
  get deliveries(): WebhookDelivery[] {
    return this.sender.deliveries
  }

  /** Waits until every delivery started so far has been answered or failed. */
  settleWebhooks(): Promise<void> {
    return this.sender.settled()
  }

  // ---- lookups ---------------------------------------------------------------------------

  issue(ref: RepoRef, index: number): IssueRecord {
    return this.issueOf(this.repoOf(ref), index)
  }

  labelNames(ref: RepoRef, index: number): string[] {
    const repo = this.repoOf(ref)
    return this.issueOf(repo, index).labelIds.map((id) => repo.labels.get(id)?.name ?? `#${id}`)
  }

  comments(ref: RepoRef, index: number): CommentRecord[] {
    return [...this.repoOf(ref).comments.values()].filter((c) => c.issueNumber === index)
  }

  refOf(repo: RepoRecord): RepoRef {
    return { owner: this.store.ownerOf(repo).login, name: repo.name }
  }

  repoOf(ref: RepoRef): RepoRecord {
    return this.store.requireRepo(ref.owner, ref.name)
  }

  // ---- actions shared by seeding and the API (they deliver webhooks) ---------------------

  openIssue(
    repo: RepoRecord,
    poster: UserRecord,
    input: { title: string; body?: string; labels?: (string | number)[]; assignees?: string[] },
    pull: IssueRecord['pull'],
  ): IssueRecord {
    const at = this.store.now()
    const issue: IssueRecord = {
      id: this.store.nextId('issue'),
      number: repo.nextIndex++,
      title: input.title,
      body: input.body ?? '',
      state: 'open',
      posterId: poster.id,
      labelIds: [],
      assigneeIds: (input.assignees ?? []).flatMap((login) => this.store.userByLogin(login)?.id ?? []),
      created: at,
      updated: at,
      closed: null,
      pull,
    }
    repo.issues.set(issue.number, issue)
    const ids = (input.labels ?? []).flatMap((l) =>
      typeof l === 'number' ? [l] : [...repo.labels.values()].filter((x) => x.name === l).map((x) => x.id),
    )
    this.store.addLabels(repo, issue, ids)
    this.emit(repo, issueWebhook(this.render, { action: 'opened', repo, issue, sender: poster }))
    return issue
  }

  addComment(repo: RepoRecord, issue: IssueRecord, poster: UserRecord, body: string): CommentRecord {
    const at = this.store.now()
    const comment: CommentRecord = {
      id: this.store.nextId('comment'),
      issueNumber: issue.number,
      posterId: poster.id,
      body,
      created: at,
      updated: at,
    }
    repo.comments.set(comment.id, comment)
    issue.updated = at
    this.emit(repo, commentWebhook(this.render, { action: 'created', repo, issue, comment, sender: poster }))
    return comment
  }

  changeComment(repo: RepoRecord, comment: CommentRecord, editor: UserRecord, body: string): CommentRecord {
    const previousBody = comment.body
    comment.body = body
    comment.updated = this.store.now()
    const issue = this.issueOf(repo, comment.issueNumber)
    this.emit(
      repo,
      commentWebhook(this.render, { action: 'edited', repo, issue, comment, sender: editor, previousBody }),
    )
    return comment
  }

  emitIssue(
    repo: RepoRecord,
    issue: IssueRecord,
    sender: UserRecord,
    action: string,
    kind: '' | 'label' | 'assign',
    changes?: { title?: { from: string }; body?: { from: string } },
  ): void {
    this.emit(repo, issueWebhook(this.render, { action, repo, issue, sender, kind, changes }))
  }

  private emit(repo: RepoRecord, hook: OutgoingWebhook): void {
    const targets = this.hooks.get(repo.id) ?? []
    if (targets.length > 0) this.sender.send(targets, hook.event, hook.eventType, hook.payload)
  }

  private requireUser(login: string): UserRecord {
    const user = this.store.userByLogin(login)
    if (!user) throw new Error(`double: no user ${login}`)
    return user
  }

  private issueOf(repo: RepoRecord, index: number): IssueRecord {
    const issue = repo.issues.get(index)
    if (!issue) throw new Error(`double: no issue #${index}`)
    return issue
  }
}

/** Makes an in-memory Gitea double; see `startGiteaDouble` for one on a real port. */
export function createGiteaDouble(options: GiteaDoubleOptions = {}): GiteaDouble {
  return new GiteaDouble(options)
}
