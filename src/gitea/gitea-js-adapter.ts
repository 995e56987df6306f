import { giteaApi, type Api } from 'gitea-js'
import { pino } from 'pino'
import { z } from 'zod'
import type { Logger } from '../logger.js'
import {
  ApiBranchInfo,
  ApiChangedFile,
  ApiComment,
  ApiIssue,
  ApiLabel,
  ApiPermission,
  ApiPullRequest,
  ApiPullReview,
  ApiRepository,
  ApiUser,
  toBranch,
  toChangedFile,
  toComment,
  toIssue,
  toLabel,
  toPermission,
  toPullRequest,
  toPullReview,
  toRepository,
  toUser,
} from './api-shapes.js'
import { GiteaError, isTransientStatus } from './gitea-error.js'
import type {
  CommitStatusInput,
  CreateIssueInput,
  CreateLabelInput,
  CreatePullRequestInput,
  CreatePullReviewInput,
  EditIssuePatch,
  EditLabelPatch,
  GiteaBranch,
  GiteaChangedFile,
  GiteaComment,
  GiteaIssue,
  GiteaLabel,
  GiteaOperation,
  GiteaPort,
  GiteaPullRequest,
  GiteaPullReview,
  GiteaRepository,
  GiteaUser,
  ListIssuesOptions,
  ListPullRequestsOptions,
  Reaction,
  RepoPermission,
  RepoRef,
} from './port.js'
import { backoffDelay, DEFAULT_RETRY_POLICY, parseRetryAfter, type RetryPolicy } from './retry-policy.js'

export interface GiteaJsAdapterOptions {
  /** Gitea's root URL, without /api/v1 (e.g. https://gitea.example.com). */
  baseUrl: string
  token: string
  logger?: Logger
  retry?: Partial<RetryPolicy>
  /** Per-attempt timeout; a hung request becomes a transient network error. Default `GITEA_REQUEST_TIMEOUT_MS`. */
  requestTimeoutMs?: number
  /** Defaults to the global fetch (which msw intercepts in tests). */
  fetch?: typeof fetch
  /** Injected so tests can observe delays without waiting on them. */
  sleep?: (ms: number) => Promise<void>
}

/** Page size asked of the labels endpoint; Gitea caps it at MAX_RESPONSE_ITEMS (default 50). */
export const LABEL_PAGE_SIZE = 50
/** Hard cap on label pages: 100 × 50 labels is far beyond any real repository. */
export const LABEL_MAX_PAGES = 100

// What gitea-js resolves with: the Response plus its parsed body.
type GiteaResponse = Response & { data: unknown }

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * The production `GiteaPort`, built on gitea-js. Retries 5xx, 429 (honouring Retry-After) and
 * network errors with exponential backoff and full jitter; never retries other 4xx. Calls that
 * create something (comments, issues, labels, pull requests, reviews) are resent only when Gitea certainly did not apply
 * them (429, 503, connection refused); see `CREATES`.
 *
 * @example
 *   const gitea = new GiteaJsAdapter({ baseUrl: env.GITEA_URL, token: env.GITEA_TOKEN, logger })
 *   await gitea.createComment({ owner: 'alice', name: 'demo' }, 1, 'On it.')
 */
/** The adapter's default per-attempt timeout of a Gitea request. */
export const GITEA_REQUEST_TIMEOUT_MS = 30_000

export class GiteaJsAdapter implements GiteaPort {
  private readonly api: Api<unknown>
  private readonly policy: RetryPolicy
  private readonly log: Logger
  private readonly sleep: (ms: number) => Promise<void>

  constructor(options: GiteaJsAdapterOptions) {
    const baseFetch = options.fetch ?? ((input, init) => fetch(input, init))
    const timeoutMs = options.requestTimeoutMs ?? GITEA_REQUEST_TIMEOUT_MS
    this.api = giteaApi(options.baseUrl.replace(/\/+$/, ''), {
      token: options.token,
      customFetch: (input, init) => baseFetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) }),
    })
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry }
    this.log = options.logger ?? pino({ level: 'silent' })
    this.sleep = options.sleep ?? defaultSleep
  }

  async getCurrentUser(): Promise<GiteaUser> {
    const res = await this.call('getCurrentUser', () => this.api.user.userGetCurrent())
    return toUser(parse('getCurrentUser', ApiUser, res))
  }

  async getIssue(repo: RepoRef, index: number): Promise<GiteaIssue> {
    const [o, r] = path(repo)
    const res = await this.call('getIssue', () => this.api.repos.issueGetIssue(o, r, index))
    return toIssue(parse('getIssue', ApiIssue, res))
  }

  async listIssues(repo: RepoRef, opts: ListIssuesOptions): Promise<GiteaIssue[]> {
    const [o, r] = path(repo)
    const query = {
      state: opts.state,
      type: opts.type,
      labels: opts.labels && opts.labels.length > 0 ? opts.labels.join(',') : undefined,
      page: opts.page,
      limit: opts.limit,
    }
    const res = await this.call('listIssues', () => this.api.repos.issueListIssues(o, r, query))
    return parse('listIssues', z.array(ApiIssue), res).map(toIssue)
  }

  async createIssue(repo: RepoRef, input: CreateIssueInput): Promise<GiteaIssue> {
    const [o, r] = path(repo)
    const res = await this.call('createIssue', () => this.api.repos.issueCreateIssue(o, r, input))
    return toIssue(parse('createIssue', ApiIssue, res))
  }

  async editIssue(repo: RepoRef, index: number, patch: EditIssuePatch): Promise<GiteaIssue> {
    const [o, r] = path(repo)
    const res = await this.call('editIssue', () => this.api.repos.issueEditIssue(o, r, index, patch))
    return toIssue(parse('editIssue', ApiIssue, res))
  }

  async assignIssue(repo: RepoRef, index: number, assignees: string[]): Promise<GiteaIssue> {
    const [o, r] = path(repo)
    const res = await this.call('assignIssue', () =>
      this.api.repos.issueEditIssue(o, r, index, { assignees }),
    )
    return toIssue(parse('assignIssue', ApiIssue, res))
  }

  async createComment(repo: RepoRef, index: number, body: string): Promise<GiteaComment> {
    const [o, r] = path(repo)
    const res = await this.call('createComment', () =>
      this.api.repos.issueCreateComment(o, r, index, { body }),
    )
    return toComment(parse('createComment', ApiComment, res))
  }

  async editComment(repo: RepoRef, commentId: number, body: string): Promise<GiteaComment> {
    const [o, r] = path(repo)
    const res = await this.call('editComment', () =>
      this.api.repos.issueEditComment(o, r, commentId, { body }),
    )
    // Gitea answers 204 when the body is unchanged; the comment is then re-read.
    if (res.status === 204) {
      const again = await this.call('editComment', () => this.api.repos.issueGetComment(o, r, commentId))
      return toComment(parse('editComment', ApiComment, again))
    }
    return toComment(parse('editComment', ApiComment, res))
  }

  async listComments(repo: RepoRef, index: number): Promise<GiteaComment[]> {
    const [o, r] = path(repo)
    const res = await this.call('listComments', () => this.api.repos.issueGetComments(o, r, index))
    return parse('listComments', z.array(ApiComment), res).map(toComment)
  }

  async addCommentReaction(repo: RepoRef, commentId: number, reaction: Reaction): Promise<void> {
    const [o, r] = path(repo)
    // 201 = created, 200 = it was already there: both mean the reaction is present.
    await this.call('addCommentReaction', () =>
      this.api.repos.issuePostCommentReaction(o, r, commentId, { content: reaction }),
    )
  }

  async addIssueReaction(repo: RepoRef, index: number, reaction: Reaction): Promise<void> {
    const [o, r] = path(repo)
    await this.call('addIssueReaction', () =>
      this.api.repos.issuePostIssueReaction(o, r, index, { content: reaction }),
    )
  }

  async listLabels(repo: RepoRef): Promise<GiteaLabel[]> {
    const [o, r] = path(repo)
    const all: GiteaLabel[] = []
    let previousIds = ''
    for (let page = 1; page <= LABEL_MAX_PAGES; page++) {
      const res = await this.call('listLabels', () =>
        this.api.repos.issueListLabels(o, r, { page, limit: LABEL_PAGE_SIZE }),
      )
      const labels = parse('listLabels', z.array(ApiLabel), res).map(toLabel)
      if (labels.length === 0) break
      // A server that ignores `page` answers the same page forever; stop on a repeat.
      const ids = labels.map((l) => l.id).join(',')
      if (ids === previousIds) break
      previousIds = ids
      all.push(...labels)
      // Gitea caps `limit` at its MAX_RESPONSE_ITEMS, so a page shorter than asked is only
      // the last one when no total says otherwise.
      const total = Number(res.headers.get('x-total-count') ?? Number.NaN)
      if (Number.isFinite(total) ? all.length >= total : labels.length < LABEL_PAGE_SIZE) break
      if (page === LABEL_MAX_PAGES) {
        this.log.warn({ operation: 'listLabels', pages: page }, 'label paging stopped at the hard cap')
      }
    }
    return all
  }

  async createLabel(repo: RepoRef, input: CreateLabelInput): Promise<GiteaLabel> {
    const [o, r] = path(repo)
    const res = await this.call('createLabel', () => this.api.repos.issueCreateLabel(o, r, input))
    return toLabel(parse('createLabel', ApiLabel, res))
  }

  async editLabel(repo: RepoRef, id: number, patch: EditLabelPatch): Promise<GiteaLabel> {
    const [o, r] = path(repo)
    const res = await this.call('editLabel', () => this.api.repos.issueEditLabel(o, r, id, patch))
    return toLabel(parse('editLabel', ApiLabel, res))
  }

  async deleteLabel(repo: RepoRef, id: number): Promise<void> {
    const [o, r] = path(repo)
    await this.call('deleteLabel', () => this.api.repos.issueDeleteLabel(o, r, id))
  }

  async addIssueLabels(repo: RepoRef, index: number, labelIds: number[]): Promise<GiteaLabel[]> {
    const [o, r] = path(repo)
    const res = await this.call('addIssueLabels', () =>
      this.api.repos.issueAddLabel(o, r, index, { labels: labelIds }),
    )
    const labels = parse('addIssueLabels', z.array(ApiLabel), res).map(toLabel)
    // Gitea answers 200 and silently drops ids it does not know. Surface that as the 422
    // it is, so callers do not believe a label was applied.
    const present = new Set(labels.map((l) => l.id))
    const missing = labelIds.filter((id) => !present.has(id))
    if (missing.length > 0) {
      throw new GiteaError({
        operation: 'addIssueLabels',
        status: 422,
        message: `Gitea did not apply label id(s) ${missing.join(', ')} (unknown to ${repo.owner}/${repo.name}, or displaced by another exclusive label in the same request)`,
      })
    }
    return labels
  }

  async removeIssueLabel(repo: RepoRef, index: number, labelId: number): Promise<void> {
    const [o, r] = path(repo)
    await this.call('removeIssueLabel', () => this.api.repos.issueRemoveLabel(o, r, index, labelId))
  }

  async getCollaboratorPermission(repo: RepoRef, login: string): Promise<RepoPermission> {
    const [o, r] = path(repo)
    try {
      const res = await this.call('getCollaboratorPermission', () =>
        this.api.repos.repoGetRepoPermissions(o, r, encodeURIComponent(login)),
      )
      return toPermission(parse('getCollaboratorPermission', ApiPermission, res))
    } catch (err) {
      // Gitea answers 404 for a login it does not know: such a user has no permission.
      if (err instanceof GiteaError && err.status === 404) return 'none'
      throw err
    }
  }

  async isOrgMember(org: string, login: string): Promise<boolean> {
    try {
      // 204: a member. A caller who may not see private members is redirected (303) to the public
      // membership check, which fetch follows: 204 or 404 there.
      await this.call('isOrgMember', () =>
        this.api.orgs.orgIsMember(encodeURIComponent(org), encodeURIComponent(login)),
      )
      return true
    } catch (err) {
      if (err instanceof GiteaError && err.status === 404) return false
      throw err
    }
  }

  async createCommitStatus(repo: RepoRef, sha: string, status: CommitStatusInput): Promise<void> {
    const [o, r] = path(repo)
    const body = {
      state: status.state,
      context: status.context,
      description: status.description,
      target_url: status.targetUrl,
    }
    await this.call('createCommitStatus', () =>
      this.api.repos.repoCreateStatus(o, r, encodeURIComponent(sha), body),
    )
  }

  async getPullRequest(repo: RepoRef, index: number): Promise<GiteaPullRequest> {
    const [o, r] = path(repo)
    const res = await this.call('getPullRequest', () => this.api.repos.repoGetPullRequest(o, r, index))
    return toPullRequest(parse('getPullRequest', ApiPullRequest, res))
  }

  async listPullRequestFiles(repo: RepoRef, index: number): Promise<GiteaChangedFile[]> {
    const [o, r] = path(repo)
    const res = await this.call('listPullRequestFiles', () =>
      this.api.repos.repoGetPullRequestFiles(o, r, index),
    )
    return parse('listPullRequestFiles', z.array(ApiChangedFile), res).map(toChangedFile)
  }

  async getRepository(repo: RepoRef): Promise<GiteaRepository> {
    const [o, r] = path(repo)
    const res = await this.call('getRepository', () => this.api.repos.repoGet(o, r))
    return toRepository(parse('getRepository', ApiRepository, res))
  }

  async getBranch(repo: RepoRef, branch: string): Promise<GiteaBranch | undefined> {
    const [o, r] = path(repo)
    try {
      // Branch names hold slashes (uw/bezalel/fix); encoded, they stay one path segment.
      const res = await this.call('getBranch', () =>
        this.api.repos.repoGetBranch(o, r, encodeURIComponent(branch)),
      )
      return toBranch(parse('getBranch', ApiBranchInfo, res))
    } catch (err) {
      if (err instanceof GiteaError && err.status === 404) return undefined
      throw err
    }
  }

  async createPullRequest(repo: RepoRef, input: CreatePullRequestInput): Promise<GiteaPullRequest> {
    const [o, r] = path(repo)
    const body = { head: input.head, base: input.base, title: input.title, body: input.body }
    const res = await this.call('createPullRequest', () => this.api.repos.repoCreatePullRequest(o, r, body))
    return toPullRequest(parse('createPullRequest', ApiPullRequest, res))
  }

  async createPullReview(
    repo: RepoRef,
    index: number,
    input: CreatePullReviewInput,
  ): Promise<GiteaPullReview> {
    const [o, r] = path(repo)
    // The event is fixed here, not taken from the caller: an agent's review only ever comments.
    const body = { event: 'COMMENT' as const, body: input.body, commit_id: input.commitId }
    const res = await this.call('createPullReview', () =>
      this.api.repos.repoCreatePullReview(o, r, index, body),
    )
    return toPullReview(parse('createPullReview', ApiPullReview, res))
  }

  async listPullRequests(repo: RepoRef, opts: ListPullRequestsOptions): Promise<GiteaPullRequest[]> {
    const [o, r] = path(repo)
    const query = { state: opts.state, page: opts.page, limit: opts.limit }
    const res = await this.call('listPullRequests', () => this.api.repos.repoListPullRequests(o, r, query))
    return parse('listPullRequests', z.array(ApiPullRequest), res).map(toPullRequest)
  }

  /** One port call: attempts, classification of failures, backoff, logging. */
  private async call<R extends GiteaResponse>(operation: GiteaOperation, send: () => Promise<R>): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      let failure: Classified
      try {
        return await send()
      } catch (thrown) {
        failure = await classify(operation, thrown, attempt)
      }
      const { error, retryAfterMs, resendable } = failure
      if (!error.transient || !resendable || attempt >= this.policy.attempts) throw error
      const delayMs =
        retryAfterMs !== undefined
          ? Math.min(retryAfterMs, this.policy.maxRetryAfterMs)
          : backoffDelay(attempt, this.policy)
      this.log.warn(
        { operation, status: error.status, attempt, delayMs, err: error.message },
        'gitea call failed, retrying',
      )
      await this.sleep(delayMs)
    }
  }
}

function path(repo: RepoRef): [string, string] {
  // gitea-js interpolates path segments verbatim; encode them so a name cannot change the path.
  return [encodeURIComponent(repo.owner), encodeURIComponent(repo.name)]
}

function parse<T>(operation: GiteaOperation, schema: z.ZodType<T>, res: GiteaResponse): T {
  const result = schema.safeParse(res.data)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  throw new GiteaError({
    operation,
    status: res.status,
    message: `unexpected response shape at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
  })
}

/**
 * Port calls that create something each time Gitea applies them. After a failure that may hide
 * an applied request (a timeout, a dropped connection, a 5xx other than 503) sending one again
 * could create it twice, so it is not resent here; the error stays transient for the caller,
 * whose own retry can look for what was created first (the executor finds its comments by their
 * hidden key marker).
 */
const CREATES: ReadonlySet<GiteaOperation> = new Set([
  'createComment',
  'createIssue',
  'createLabel',
  'createPullRequest',
  'createPullReview',
])

/** Network errors raised before the request reached Gitea. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'])

interface Classified {
  error: GiteaError
  retryAfterMs: number | undefined
  /** Whether sending the request again cannot apply it twice. */
  resendable: boolean
}

/**
 * gitea-js throws the `Response` itself on a non-2xx answer, with the parsed body in
 * `.error` (or the body unread when no format was asked). fetch throws a TypeError on
 * network failure and a DOMException when our timeout aborts.
 */
async function classify(operation: GiteaOperation, thrown: unknown, attempt: number): Promise<Classified> {
  const response = isResponse(thrown)
  const status = response ? thrown.status : 0
  const code =
    thrown instanceof Error && thrown.cause instanceof Error
      ? (thrown.cause as NodeJS.ErrnoException).code
      : undefined
  // 429 and 503 say Gitea did not handle it; a refused connection never reached it.
  const notApplied = status === 429 || status === 503 || (code !== undefined && NOT_SENT.has(code))
  const resendable = !CREATES.has(operation) || notApplied
  let message = response
    ? await errorMessage(thrown)
    : thrown instanceof Error
      ? describeNetworkError(thrown)
      : String(thrown)
  const mayHaveBeenApplied = !resendable && isTransientStatus(status)
  if (mayHaveBeenApplied) message += '; not retried: Gitea may have applied it'
  return {
    error: new GiteaError({
      operation,
      status,
      message,
      attempts: attempt,
      cause: response ? undefined : thrown,
      mayHaveBeenApplied,
    }),
    retryAfterMs:
      response && (status === 429 || status === 503)
        ? parseRetryAfter(thrown.headers.get('retry-after'))
        : undefined,
    resendable,
  }
}

/**
 * Duck-typed on purpose: @hono/node-server replaces globalThis.Response in the process, so
 * the Response fetch returns is not always an instance of the global class.
 */
function isResponse(value: unknown): value is Response {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Response).status === 'number' &&
    typeof (value as Response).headers?.get === 'function' &&
    typeof (value as Response).text === 'function'
  )
}

async function errorMessage(res: Response): Promise<string> {
  const parsed: unknown = (res as Response & { error?: unknown }).error
  let body: unknown = parsed instanceof Error ? undefined : parsed
  if (body === undefined || body === null) {
    if (!res.bodyUsed) body = await res.text().catch(() => '')
  }
  if (typeof body === 'object' && body !== null && 'message' in body && typeof body.message === 'string') {
    return body.message || res.statusText
  }
  if (typeof body === 'string' && body.trim() !== '') return body.trim().slice(0, 500)
  return res.statusText || 'no message'
}

function describeNetworkError(err: Error): string {
  if (err.name === 'TimeoutError') return 'request timed out'
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : ''
  return `${err.message}${cause}`
}
