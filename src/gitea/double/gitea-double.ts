import type { ChildProcess } from 'node:child_process'
import { DoubleOAuth, type OAuthAppRecord } from './oauth-provider.js'
import type { Hono } from 'hono'
import type { RepoRef } from '../port.js'
import { GiteaContract, type ContractViolation } from './contract.js'
import { createDoubleApp, type DoubleVars } from './double-app.js'
import type { DoubleHost, LoggedRequest } from './double-host.js'
import { FaultControl } from './faults.js'
import { killGitBackends } from './git/git-http-backend.js'
import type { GitRequest } from './git/git-routes.js'
import { GitStorage, type CommitOptions, type SeedFiles } from './git/git-storage.js'
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
  type ReviewRecord,
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
  /**
   * Where hosted repositories (`createRepo({ git: true })`) are stored. Default a temporary
   * directory made on first use and removed by `close()`.
   */
  gitRoot?: string
}

export interface SeedRepo {
  owner: string
  name: string
  private?: boolean
  description?: string
  /** Default 'main'. */
  defaultBranch?: string
  /**
   * Host a real bare git repository, served at `${baseUrl}/{owner}/{name}.git` over smart HTTP
   * with Gitea's token auth; its branches back the branch and pull request endpoints. It starts
   * empty: `seedCommits` or a push fills it.
   */
  git?: boolean
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
  readonly oauth = new DoubleOAuth()
  readonly faults = new FaultControl()
  readonly contract = GiteaContract.load()
  readonly violations: ContractViolation[] = []
  readonly requests: LoggedRequest[] = []
  readonly hooks = new Map<number, WebhookTarget[]>()
  readonly strict: boolean
  readonly maxResponseItems: number
  readonly render: Renderer
  readonly app: Hono<DoubleVars>
  /** Running `git http-backend` processes, killed by `close()`. */
  readonly gitBackends = new Set<ChildProcess>()
  /** Every git smart-HTTP request, for tests to assert on (no bodies, no credentials). */
  readonly gitRequests: GitRequest[] = []
  private readonly sender: WebhookSender
  private readonly gitRoot: string | undefined
  private storage: GitStorage | undefined
  private url: string

  constructor(options: GiteaDoubleOptions = {}) {
    this.url = (options.baseUrl ?? 'http://gitea.test').replace(/\/+$/, '')
    this.strict = options.strict ?? true
    this.maxResponseItems = options.maxResponseItems ?? 50
    this.render = new Renderer(
      this.store,
      () => this.url,
      (repo) => (repo.git ? this.gitStorage.branches(this.store.ownerOf(repo).login, repo.name) : undefined),
    )
    this.sender = new WebhookSender(options.webhookTimeoutMs)
    this.gitRoot = options.gitRoot
    this.app = createDoubleApp(this)
  }

  /** The bare repositories; made on first use so doubles without hosted repos touch no disk. */
  get gitStorage(): GitStorage {
    this.storage ??= new GitStorage(this.gitRoot)
    return this.storage
  }

  /** Kills running git backends and removes the git storage the double made. Idempotent. */
  close(): void {
    killGitBackends(this.gitBackends)
    this.storage?.dispose()
    this.storage = undefined
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

  /**
   * Registers an OAuth2 application (Gitea: settings → Applications), for Login with Gitea.
   *
   * @example
   *   const { clientId, clientSecret } = double.createOAuthApp({ name: 'dashboard', redirectUris: [callback] })
   */
  createOAuthApp(input: { name: string; redirectUris: string[] }): OAuthAppRecord {
    return this.oauth.register(input)
  }

  tokenOf(login: string): string {
    const user = this.requireUser(login)
    for (const [token, id] of this.store.tokens) if (id === user.id) return token
    throw new Error(`double: ${login} has no token`)
  }

  createRepo(input: SeedRepo): RepoRef {
    const owner = this.requireUser(input.owner)
    if (this.store.repo(input.owner, input.name))
      throw new Error(`double: ${input.owner}/${input.name} exists`)
    const defaultBranch = input.defaultBranch ?? 'main'
    if (input.git) this.gitStorage.init(owner.login, input.name, defaultBranch)
    const repo: RepoRecord = {
      id: this.store.nextId('repo'),
      ownerId: owner.id,
      name: input.name,
      description: input.description ?? '',
      private: input.private ?? false,
      created: this.store.now(),
      defaultBranch,
      git: input.git ?? false,
      protectedBranches: new Set(),
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

  /**
   * Writes one commit to a hosted repository (no work tree, no hooks) and returns its sha.
   * `files` maps paths to new content, or to null to delete. Commits on the default branch
   * unless `opts.branch` names another (created from `opts.from`, default the default branch).
   * Seeding delivers no webhooks, like a push before any hook exists.
   *
   * @example
   *   double.seedCommits(repo, { 'README.md': '# demo\n' }, 'Initial commit')
   *   double.seedCommits(repo, { 'fix.txt': 'x' }, 'Fix', { branch: 'fix' })
   */
  seedCommits(ref: RepoRef, files: SeedFiles, message: string, opts: CommitOptions = {}): string {
    const repo = this.hostedRepo(ref)
    const owner = this.store.ownerOf(repo).login
    const sha = this.gitStorage.commitFiles(owner, repo.name, repo.defaultBranch, files, message, opts)
    this.syncPulls(repo, undefined)
    return sha
  }

  /** Adds a branch protection rule that disables pushing to `branch` (reported as `protected`). */
  protectBranch(ref: RepoRef, branch: string): void {
    this.repoOf(ref).protectedBranches.add(branch)
  }

  /** A hosted repository's branches and their head commits. */
  branches(ref: RepoRef): Map<string, string> {
    const repo = this.hostedRepo(ref)
    return this.gitStorage.branches(this.store.ownerOf(repo).login, repo.name)
  }

  /** Gitea's clone URL for a repository: `${baseUrl}/{owner}/{name}.git`. */
  cloneUrl(ref: RepoRef): string {
    const repo = this.repoOf(ref)
    return `${this.url}/${this.store.ownerOf(repo).login}/${repo.name}.git`
  }

  /** The commit statuses set on a sha, oldest first. */
  statusesOf(ref: RepoRef, sha: string): RepoRecord['statuses'] {
    return this.repoOf(ref).statuses.filter((s) => s.sha === sha)
  }

  /** After a push (or seeding): open pull requests follow their head branch, like Gitea. */
  afterPush(repo: RepoRecord, pusher: UserRecord): void {
    this.syncPulls(repo, pusher)
  }

  private syncPulls(repo: RepoRecord, pusher: UserRecord | undefined): void {
    const after = this.gitStorage.branches(this.store.ownerOf(repo).login, repo.name)
    for (const issue of repo.issues.values()) {
      const pull = issue.pull
      if (!pull || pull.merged || issue.state !== 'open') continue
      const head = after.get(pull.headRef)
      if (head === undefined || head === pull.headSha) continue
      pull.headSha = head
      pull.baseSha = after.get(pull.baseRef) ?? pull.baseSha
      pull.files = this.diffFiles(repo, pull.baseRef, head)
      issue.updated = this.store.now()
      // Gitea delivers `pull_request` / `pull_request_sync`, action `synchronized`, on a push to the head.
      if (pusher) {
        this.emit(
          repo,
          issueWebhook(this.render, { action: 'synchronized', repo, issue, sender: pusher, kind: 'sync' }),
        )
      }
    }
  }

  /** The files a pull request from `head` into `base` changes (from their merge base). */
  diffFiles(repo: RepoRecord, base: string, head: string): ChangedFileRecord[] {
    const owner = this.store.ownerOf(repo).login
    const from = this.gitStorage.mergeBase(owner, repo.name, base, head) ?? base
    return this.gitStorage.changedFiles(owner, repo.name, from, head)
  }

  private hostedRepo(ref: RepoRef): RepoRecord {
    const repo = this.repoOf(ref)
    if (!repo.git)
      throw new Error(`double: ${ref.owner}/${ref.name} is not hosted (createRepo({ git: true }))`)
    return repo
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
    const repo = this.repoOf(ref)
    const head = input.head ?? `feature-${this.store.nextId('branch')}`
    const base = input.base ?? repo.defaultBranch
    // On a hosted repository, existing branches give the real shas and changed files.
    const branches = repo.git ? this.branches(ref) : new Map<string, string>()
    const headSha = input.headSha ?? branches.get(head) ?? fakeSha(`${ref.owner}/${ref.name}:${head}`)
    const pull = {
      id: this.store.nextId('pull'),
      headRef: head,
      headSha,
      baseRef: base,
      baseSha: branches.get(base) ?? fakeSha(`${ref.owner}/${ref.name}:${base}`),
      merged: false,
      reviews: [],
      files:
        input.files ?? (branches.has(head) && branches.has(base) ? this.diffFiles(repo, base, headSha) : []),
    }
    return this.openIssue(repo, this.requireUser(input.author), input, pull)
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

  /** The reviews of a pull request, oldest first. */
  reviews(ref: RepoRef, index: number): ReviewRecord[] {
    const pull = this.issueOf(this.repoOf(ref), index).pull
    if (!pull) throw new Error(`double: #${index} is not a pull request`)
    return pull.reviews
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

  emit(repo: RepoRecord, hook: OutgoingWebhook): void {
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
