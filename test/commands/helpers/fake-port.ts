import type {
  GiteaComment,
  GiteaIssue,
  GiteaLabel,
  GiteaPort,
  Reaction,
  RepoPermission,
  RepoRef,
} from '../../../src/gitea/port.js'

/** An error shaped like GiteaError (status, operation, transient). */
export class FakeGiteaError extends Error {
  constructor(
    readonly status: number,
    readonly operation: string,
  ) {
    super(`${operation}: HTTP ${status}`)
  }
  get transient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500
  }
}

const BOT = { id: 1, login: 'uw-bot' }

/**
 * A small in-memory Gitea for one repository, enough for the executor and the context. It keeps
 * Gitea's contract where the bot relies on it: unknown label ids are 422, reactions are
 * idempotent, a non-collaborator is 'none'. `failNext` injects failures per method.
 */
export class FakePort implements GiteaPort {
  labels: GiteaLabel[] = []
  issues = new Map<number, GiteaIssue>()
  comments: (GiteaComment & { issue: number })[] = []
  reactions = new Set<string>()
  statuses: { sha: string; state: string; context: string }[] = []
  permissions = new Map<string, RepoPermission>()
  calls: string[] = []
  private failures = new Map<string, unknown[]>()
  private nextId = 100

  constructor(labelNames: string[] = []) {
    for (const name of labelNames) this.labels.push(this.label(name))
  }

  private label(name: string): GiteaLabel {
    return { id: this.nextId++, name, color: 'ededed', description: '', exclusive: name.includes('/') }
  }

  addIssue(number: number, labelNames: string[] = []): GiteaIssue {
    const issue: GiteaIssue = {
      number,
      title: `Issue ${number}`,
      body: '',
      state: 'open',
      isPull: false,
      user: { id: 2, login: 'ann' },
      labels: this.labels.filter((l) => labelNames.includes(l.name)),
      assignees: [],
      htmlUrl: `http://gitea/o/r/issues/${number}`,
      createdAt: '2026-01-01T00:00:00Z',
      closedAt: null,
    }
    this.issues.set(number, issue)
    return issue
  }

  failNext(method: keyof GiteaPort, error: unknown, times = 1): void {
    const list = this.failures.get(method) ?? []
    for (let i = 0; i < times; i++) list.push(error)
    this.failures.set(method, list)
  }

  private enter(method: string): void {
    this.calls.push(method)
    const list = this.failures.get(method)
    if (list && list.length > 0) throw list.shift()
  }

  private issue(index: number, op: string): GiteaIssue {
    const i = this.issues.get(index)
    if (!i) throw new FakeGiteaError(404, op)
    return i
  }

  async getCurrentUser() {
    this.enter('getCurrentUser')
    return BOT
  }
  async getIssue(_repo: RepoRef, index: number) {
    this.enter('getIssue')
    const i = this.issue(index, 'getIssue')
    return { ...i, labels: [...i.labels], assignees: [...i.assignees] }
  }
  async listIssues() {
    this.enter('listIssues')
    return [...this.issues.values()]
  }
  async createIssue(_repo: RepoRef, input: { title: string; body?: string }) {
    this.enter('createIssue')
    const i = this.addIssue(this.issues.size + 1)
    i.title = input.title
    i.body = input.body ?? ''
    return i
  }
  async editIssue(
    _repo: RepoRef,
    index: number,
    patch: { title?: string; body?: string; state?: 'open' | 'closed' },
  ) {
    this.enter('editIssue')
    return Object.assign(this.issue(index, 'editIssue'), patch)
  }
  async assignIssue(_repo: RepoRef, index: number, assignees: string[]) {
    this.enter('assignIssue')
    const i = this.issue(index, 'assignIssue')
    i.assignees = assignees.map((login, n) => ({ id: 500 + n, login }))
    return i
  }
  async createComment(_repo: RepoRef, index: number, body: string) {
    this.enter('createComment')
    this.issue(index, 'createComment')
    const c = {
      id: this.nextId++,
      issue: index,
      body,
      user: BOT,
      htmlUrl: `http://gitea/o/r/issues/${index}#c`,
      createdAt: 'now',
      updatedAt: 'now',
    }
    this.comments.push(c)
    return c
  }
  async editComment(_repo: RepoRef, commentId: number, body: string) {
    this.enter('editComment')
    const c = this.comments.find((x) => x.id === commentId)
    if (!c) throw new FakeGiteaError(404, 'editComment')
    c.body = body
    return c
  }
  async listComments(_repo: RepoRef, index: number) {
    this.enter('listComments')
    return this.comments.filter((c) => c.issue === index)
  }
  async addCommentReaction(_repo: RepoRef, commentId: number, reaction: Reaction) {
    this.enter('addCommentReaction')
    this.reactions.add(`comment:${commentId}:${reaction}`)
  }
  async addIssueReaction(_repo: RepoRef, index: number, reaction: Reaction) {
    this.enter('addIssueReaction')
    this.reactions.add(`issue:${index}:${reaction}`)
  }
  async listLabels() {
    this.enter('listLabels')
    return [...this.labels]
  }
  async createLabel(_repo: RepoRef, input: { name: string }) {
    this.enter('createLabel')
    const l = this.label(input.name)
    this.labels.push(l)
    return l
  }
  async editLabel(_repo: RepoRef, id: number, patch: { name?: string }) {
    this.enter('editLabel')
    const l = this.labels.find((x) => x.id === id)
    if (!l) throw new FakeGiteaError(404, 'editLabel')
    return Object.assign(l, patch)
  }
  async deleteLabel(_repo: RepoRef, id: number) {
    this.enter('deleteLabel')
    this.labels = this.labels.filter((l) => l.id !== id)
  }
  async addIssueLabels(_repo: RepoRef, index: number, labelIds: number[]) {
    this.enter('addIssueLabels')
    const i = this.issue(index, 'addIssueLabels')
    for (const id of labelIds) {
      const l = this.labels.find((x) => x.id === id)
      if (!l) throw new FakeGiteaError(422, 'addIssueLabels')
      if (!i.labels.some((x) => x.id === id)) i.labels.push(l)
    }
    return i.labels
  }
  async removeIssueLabel(_repo: RepoRef, index: number, labelId: number) {
    this.enter('removeIssueLabel')
    const i = this.issue(index, 'removeIssueLabel')
    i.labels = i.labels.filter((l) => l.id !== labelId)
  }
  async getCollaboratorPermission(_repo: RepoRef, login: string) {
    this.enter('getCollaboratorPermission')
    return this.permissions.get(login) ?? 'none'
  }
  async isOrgMember(): Promise<boolean> {
    this.enter('isOrgMember')
    return false
  }
  async createCommitStatus(_repo: RepoRef, sha: string, status: { state: string; context: string }) {
    this.enter('createCommitStatus')
    this.statuses.push({ sha, ...status })
  }
  async getPullRequest(): Promise<never> {
    this.enter('getPullRequest')
    throw new FakeGiteaError(404, 'getPullRequest')
  }
  async listPullRequestFiles() {
    this.enter('listPullRequestFiles')
    return []
  }
  // Repository, branch and pull request calls: the command tests do not use them yet.
  async getRepository(): Promise<never> {
    this.enter('getRepository')
    throw new FakeGiteaError(404, 'getRepository')
  }
  async getBranch() {
    this.enter('getBranch')
    return undefined
  }
  async createPullRequest(): Promise<never> {
    this.enter('createPullRequest')
    throw new FakeGiteaError(404, 'createPullRequest')
  }
  async listPullRequests() {
    this.enter('listPullRequests')
    return []
  }
  async createPullReview(): Promise<never> {
    this.enter('createPullReview')
    throw new FakeGiteaError(404, 'createPullReview')
  }
}
