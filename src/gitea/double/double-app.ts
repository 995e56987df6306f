import { Hono, type Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { DoubleHost } from './double-host.js'
import { registerGitRoutes } from './git/git-routes.js'
import { registerOAuthRoutes } from './oauth-provider.js'
import type { IssueRecord, RepoRecord, UserRecord } from './store.js'

/** Response header the double sets to ask its transport to drop the connection (fault). */
export const NETWORK_FAULT_HEADER = 'x-gitea-double-network-fault'

/** Gitea's default [ui] REACTIONS. */
const ALLOWED_REACTIONS = ['+1', '-1', 'laugh', 'hooray', 'confused', 'heart', 'rocket', 'eyes']
const COMMIT_STATES = ['pending', 'success', 'error', 'failure', 'warning', 'skipped']
/** Gitea's [api] DEFAULT_PAGING_NUM. */
const DEFAULT_PAGE_SIZE = 30

export type DoubleVars = { Variables: { caller: UserRecord; repo: RepoRecord } }
type C = Context<DoubleVars>

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Builds the double's Hono app: Gitea's API paths under /api/v1 with Gitea's behaviour. */
export function createDoubleApp(double: DoubleHost): Hono<DoubleVars> {
  const app = new Hono<DoubleVars>()
  const { store, render } = double
  const patterns: { method: string; pattern: RegExp }[] = []

  const fail = (c: C, status: ContentfulStatusCode, message: string) =>
    c.json({ message, url: `${double.baseUrl}/api/swagger` }, status)

  // Faults, the request log and the contract check wrap everything else.
  app.use('*', async (c, next) => {
    const url = new URL(c.req.url)
    // Git's smart-HTTP traffic is not API traffic: no faults, contract or API log (see gitRequests).
    if (!url.pathname.startsWith('/api/')) return next()
    const method = c.req.method
    const requestBody = ['POST', 'PATCH', 'PUT', 'DELETE'].includes(method)
      ? await c.req.raw.clone().text()
      : undefined
    const fault = double.faults.take(method, url.pathname)
    if (fault) {
      if (fault.hangMs > 0) await sleep(fault.hangMs)
      if (fault.network) {
        c.res = new Response(null, { status: 502, headers: { [NETWORK_FAULT_HEADER]: '1' } })
      } else if (fault.status !== undefined) {
        c.res = c.json(
          { message: `injected fault ${fault.status}`, url: `${double.baseUrl}/api/swagger` },
          fault.status as ContentfulStatusCode,
          fault.retryAfter !== undefined ? { 'Retry-After': fault.retryAfter } : {},
        )
      }
      if (fault.network || fault.status !== undefined) {
        log(c, url, requestBody, undefined)
        return
      }
    }
    // Contract checks cost an ajv validation per request and response and a clone of every
    // response body; a non-strict double (sandbox, benchmarks) skips them, as its option says.
    if (!double.strict) {
      await next()
      log(c, url, requestBody, double.contract.operationIdOf(method, url.pathname))
      if (fault?.lateMs) await sleep(fault.lateMs)
      return
    }
    const check = { method, path: url.pathname }
    double.violations.push(
      ...double.contract.checkRequest({
        ...check,
        query: url.searchParams,
        contentType: c.req.header('content-type') ?? null,
        body: requestBody,
      }),
    )
    await next()
    const body = c.res.status === 204 ? '' : await c.res.clone().text()
    double.violations.push(
      ...double.contract.checkResponse({
        ...check,
        status: c.res.status,
        contentType: c.res.headers.get('content-type'),
        body,
      }),
    )
    log(c, url, requestBody, double.contract.operationIdOf(method, url.pathname))
    if (fault?.lateMs) await sleep(fault.lateMs)
  })

  function log(c: C, url: URL, requestBody: string | undefined, operationId: string | undefined) {
    double.requests.push({
      method: c.req.method,
      path: url.pathname,
      query: url.search,
      login: c.get('caller')?.login,
      status: c.res.status,
      operationId,
      requestBody,
    })
  }

  // Token auth like Gitea: `Authorization: token <t>` or `Bearer <t>`. The double requires a
  // token everywhere but /version (real Gitea also serves public reads anonymously).
  app.use('/api/v1/*', async (c, next) => {
    if (new URL(c.req.url).pathname === '/api/v1/version') return next()
    const header = c.req.header('authorization') ?? ''
    const match = /^(?:token|bearer)\s+(\S+)$/i.exec(header.trim())
    if (!match) return fail(c, 401, 'token is required')
    const userId = store.tokens.get(match[1] ?? '')
    const caller = userId === undefined ? undefined : store.users.get(userId)
    if (!caller) return fail(c, 401, 'user does not exist')
    c.set('caller', caller)
    await next()
  })

  const repoAccess = async (c: C, next: () => Promise<void>) => {
    const repo = store.repo(c.req.param('owner') ?? '', c.req.param('repo') ?? '')
    // Gitea answers 404, not 403, for a private repository the caller cannot see.
    if (!repo || !store.canRead(repo, c.get('caller'))) return fail(c, 404, "The target couldn't be found.")
    c.set('repo', repo)
    await next()
  }
  app.use('/api/v1/repos/:owner/:repo', repoAccess)
  app.use('/api/v1/repos/:owner/:repo/*', repoAccess)

  registerGitRoutes(app, double)
  registerOAuthRoutes(app as never, store, double.oauth)

  const route = (method: string, path: string, handler: (c: C) => Response | Promise<Response>) => {
    app.on(method, `/api/v1${path}`, handler)
    const source = path.replace(/:[a-z]+\{([^}]+)\}/gi, '($1)').replace(/:[a-z]+/gi, '([^/]+)')
    patterns.push({ method, pattern: new RegExp(`^/api/v1${source}$`) })
  }

  const json = async (c: C): Promise<Record<string, unknown> | undefined> => {
    try {
      const body: unknown = await c.req.json()
      return typeof body === 'object' && body !== null && !Array.isArray(body)
        ? (body as Record<string, unknown>)
        : undefined
    } catch {
      return undefined
    }
  }
  const issueOr404 = (c: C): IssueRecord | undefined => c.get('repo').issues.get(Number(c.req.param('index')))
  const paging = (c: C) => {
    const page = Math.max(1, Number(c.req.query('page') ?? 1) || 1)
    const asked = Number(c.req.query('limit') ?? DEFAULT_PAGE_SIZE) || DEFAULT_PAGE_SIZE
    const limit = Math.min(Math.max(1, asked), double.maxResponseItems)
    return <T>(items: T[]): T[] => items.slice((page - 1) * limit, page * limit)
  }
  const canWriteIssue = (c: C, issue: IssueRecord) =>
    store.canWrite(c.get('repo'), c.get('caller')) || issue.posterId === c.get('caller').id

  const ownerLogin = (repo: RepoRecord) => store.ownerOf(repo).login
  const branchesOf = (repo: RepoRecord) =>
    repo.git ? double.gitStorage.branches(ownerLogin(repo), repo.name) : new Map<string, string>()

  route('GET', '/version', (c) => c.json({ version: '1.26.3' }))
  route('GET', '/user', (c) => c.json(render.user(c.get('caller'))))

  // ---- issues ----------------------------------------------------------------------------

  route('GET', '/repos/:owner/:repo/issues', (c) => {
    const repo = c.get('repo')
    const state = c.req.query('state') ?? 'open'
    const type = c.req.query('type')
    const labels = (c.req.query('labels') ?? '').split(',').filter(Boolean)
    const matching = [...repo.issues.values()]
      .filter((i) => state === 'all' || i.state === state)
      .filter((i) => (type === 'issues' ? !i.pull : type === 'pulls' ? !!i.pull : true))
      .filter(
        (i) =>
          labels.length === 0 || i.labelIds.some((id) => labels.includes(repo.labels.get(id)?.name ?? '')),
      )
      .sort((a, b) => b.number - a.number)
    c.header('X-Total-Count', String(matching.length))
    return c.json(paging(c)(matching).map((i) => render.issue(repo, i)))
  })

  route('POST', '/repos/:owner/:repo/issues', async (c) => {
    const repo = c.get('repo')
    const body = await json(c)
    if (!body || typeof body.title !== 'string' || body.title.trim() === '')
      return fail(c, 422, '[Title]: Required')
    // Like Gitea, labels and assignees from a caller without write access are dropped.
    const writer = store.canWrite(repo, c.get('caller'))
    const issue = double.openIssue(
      repo,
      c.get('caller'),
      {
        title: body.title,
        body: typeof body.body === 'string' ? body.body : '',
        labels: writer && Array.isArray(body.labels) ? body.labels.filter((l) => typeof l === 'number') : [],
        assignees:
          writer && Array.isArray(body.assignees) ? body.assignees.filter((a) => typeof a === 'string') : [],
      },
      undefined,
    )
    return c.json(render.issue(repo, issue), 201)
  })

  route('GET', '/repos/:owner/:repo/issues/:index{[0-9]+}', (c) => {
    const issue = issueOr404(c)
    return issue ? c.json(render.issue(c.get('repo'), issue)) : fail(c, 404, 'issue does not exist')
  })

  route('PATCH', '/repos/:owner/:repo/issues/:index{[0-9]+}', async (c) => {
    const repo = c.get('repo')
    const caller = c.get('caller')
    const issue = issueOr404(c)
    if (!issue) return fail(c, 404, 'issue does not exist')
    if (!canWriteIssue(c, issue)) return fail(c, 403, 'user cannot edit this issue')
    const body = await json(c)
    if (!body) return fail(c, 422, 'invalid JSON body')
    const changes: { title?: { from: string }; body?: { from: string } } = {}
    if (typeof body.title === 'string' && body.title !== issue.title) {
      changes.title = { from: issue.title }
      issue.title = body.title
    }
    if (typeof body.body === 'string' && body.body !== issue.body) {
      changes.body = { from: issue.body }
      issue.body = body.body
    }
    let removed: number[] = []
    let added: number[] = []
    if (Array.isArray(body.assignees) && store.canWrite(repo, caller)) {
      const ids = body.assignees.flatMap((login) =>
        typeof login === 'string' ? (store.userByLogin(login)?.id ?? []) : [],
      )
      removed = issue.assigneeIds.filter((id) => !ids.includes(id))
      added = ids.filter((id) => !issue.assigneeIds.includes(id))
      issue.assigneeIds = ids
    }
    const previousState = issue.state
    if (body.state === 'open' || body.state === 'closed') issue.state = body.state
    issue.updated = store.now()
    if (changes.title || changes.body) double.emitIssue(repo, issue, caller, 'edited', '', changes)
    // Like Gitea's UpdateAssignees: one delivery per assignee changed, removals (`unassigned`)
    // first, then additions (`assigned`); the payload names no assignee, only the issue's set.
    removed.forEach(() => double.emitIssue(repo, issue, caller, 'unassigned', 'assign'))
    added.forEach(() => double.emitIssue(repo, issue, caller, 'assigned', 'assign'))
    if (issue.state !== previousState) {
      issue.closed = issue.state === 'closed' ? issue.updated : null
      double.emitIssue(repo, issue, caller, issue.state === 'closed' ? 'closed' : 'reopened', '')
    }
    // Gitea answers 201 to an issue edit.
    return c.json(render.issue(repo, issue), 201)
  })

  // ---- comments --------------------------------------------------------------------------

  route('GET', '/repos/:owner/:repo/issues/:index{[0-9]+}/comments', (c) => {
    const repo = c.get('repo')
    const issue = issueOr404(c)
    if (!issue) return fail(c, 404, 'issue does not exist')
    const comments = [...repo.comments.values()].filter((x) => x.issueNumber === issue.number)
    c.header('X-Total-Count', String(comments.length))
    return c.json(comments.map((x) => render.comment(repo, x)))
  })

  route('POST', '/repos/:owner/:repo/issues/:index{[0-9]+}/comments', async (c) => {
    const repo = c.get('repo')
    const issue = issueOr404(c)
    if (!issue) return fail(c, 404, 'issue does not exist')
    const body = await json(c)
    if (!body || typeof body.body !== 'string' || body.body === '') return fail(c, 422, '[Body]: Required')
    const comment = double.addComment(repo, issue, c.get('caller'), body.body)
    return c.json(render.comment(repo, comment), 201)
  })

  const commentOr404 = (c: C) => c.get('repo').comments.get(Number(c.req.param('id')))

  route('GET', '/repos/:owner/:repo/issues/comments/:id{[0-9]+}', (c) => {
    const comment = commentOr404(c)
    return comment ? c.json(render.comment(c.get('repo'), comment)) : fail(c, 404, 'comment does not exist')
  })

  route('PATCH', '/repos/:owner/:repo/issues/comments/:id{[0-9]+}', async (c) => {
    const repo = c.get('repo')
    const comment = commentOr404(c)
    if (!comment) return fail(c, 404, 'comment does not exist')
    const issue = repo.issues.get(comment.issueNumber)
    if (comment.posterId !== c.get('caller').id && !store.canWrite(repo, c.get('caller')))
      return fail(c, 403, 'user cannot edit this comment')
    const body = await json(c)
    if (!body || typeof body.body !== 'string' || body.body === '' || !issue)
      return fail(c, 422, '[Body]: Required')
    double.changeComment(repo, comment, c.get('caller'), body.body)
    return c.json(render.comment(repo, comment))
  })

  // ---- reactions -------------------------------------------------------------------------

  const react = async (c: C, issueNumber: number, commentId: number) => {
    const repo = c.get('repo')
    const caller = c.get('caller')
    const body = await json(c)
    const content = typeof body?.content === 'string' ? body.content : ''
    if (!ALLOWED_REACTIONS.includes(content)) return fail(c, 403, `'${content}' is not an allowed reaction`)
    const existing = repo.reactions.find(
      (r) =>
        r.userId === caller.id &&
        r.content === content &&
        r.issueNumber === issueNumber &&
        r.commentId === commentId,
    )
    // Gitea answers 200 with the existing reaction, 201 when it created one.
    if (existing) return c.json(render.reaction(caller, content, existing.created), 200)
    const created = store.now()
    repo.reactions.push({
      id: store.nextId('reaction'),
      userId: caller.id,
      content,
      issueNumber,
      commentId,
      created,
    })
    return c.json(render.reaction(caller, content, created), 201)
  }

  route('POST', '/repos/:owner/:repo/issues/comments/:id{[0-9]+}/reactions', (c) => {
    const comment = commentOr404(c)
    return comment ? react(c, comment.issueNumber, comment.id) : fail(c, 404, 'comment does not exist')
  })

  route('POST', '/repos/:owner/:repo/issues/:index{[0-9]+}/reactions', (c) => {
    const issue = issueOr404(c)
    return issue ? react(c, issue.number, 0) : fail(c, 404, 'issue does not exist')
  })

  // ---- labels ----------------------------------------------------------------------------

  const normalizeColor = (value: unknown): string | undefined => {
    if (typeof value !== 'string') return undefined
    const m = /^#?([0-9a-f]{6}|[0-9a-f]{3})$/i.exec(value.trim())
    if (!m?.[1]) return undefined
    const hex = m[1].length === 3 ? [...m[1]].map((ch) => ch + ch).join('') : m[1]
    return hex.toLowerCase()
  }

  route('GET', '/repos/:owner/:repo/labels', (c) => {
    const repo = c.get('repo')
    const labels = [...repo.labels.values()].sort((a, b) => a.name.localeCompare(b.name) || a.id - b.id)
    c.header('X-Total-Count', String(labels.length))
    return c.json(paging(c)(labels).map((l) => render.label(repo, l)))
  })

  route('POST', '/repos/:owner/:repo/labels', async (c) => {
    const repo = c.get('repo')
    if (!store.canWrite(repo, c.get('caller'))) return fail(c, 403, 'user cannot write labels')
    const body = await json(c)
    if (!body || typeof body.name !== 'string' || body.name === '') return fail(c, 422, '[Name]: Required')
    const color = normalizeColor(body.color)
    if (!color) return fail(c, 422, `invalid color: ${String(body.color)}`)
    const label = double.createLabel(double.refOf(repo), {
      name: body.name,
      color,
      description: typeof body.description === 'string' ? body.description : '',
      exclusive: body.exclusive === true,
    })
    return c.json(render.label(repo, label), 201)
  })

  route('PATCH', '/repos/:owner/:repo/labels/:id{[0-9]+}', async (c) => {
    const repo = c.get('repo')
    if (!store.canWrite(repo, c.get('caller'))) return fail(c, 403, 'user cannot write labels')
    const label = repo.labels.get(Number(c.req.param('id')))
    if (!label) return fail(c, 404, 'label does not exist')
    const body = await json(c)
    if (!body) return fail(c, 422, 'invalid JSON body')
    if (body.color !== undefined) {
      const color = normalizeColor(body.color)
      if (!color) return fail(c, 422, `invalid color: ${String(body.color)}`)
      label.color = color
    }
    if (typeof body.name === 'string' && body.name !== '') label.name = body.name
    if (typeof body.description === 'string') label.description = body.description
    if (typeof body.exclusive === 'boolean') label.exclusive = body.exclusive
    return c.json(render.label(repo, label))
  })

  route('DELETE', '/repos/:owner/:repo/labels/:id{[0-9]+}', (c) => {
    const repo = c.get('repo')
    if (!store.canWrite(repo, c.get('caller'))) return fail(c, 403, 'user cannot write labels')
    const id = Number(c.req.param('id'))
    if (!repo.labels.delete(id)) return fail(c, 404, 'label does not exist')
    for (const issue of repo.issues.values()) issue.labelIds = issue.labelIds.filter((x) => x !== id)
    return c.body(null, 204)
  })

  route('POST', '/repos/:owner/:repo/issues/:index{[0-9]+}/labels', async (c) => {
    const repo = c.get('repo')
    const issue = issueOr404(c)
    if (!issue) return fail(c, 404, 'issue does not exist')
    const body = await json(c)
    if (!body || !Array.isArray(body.labels)) return fail(c, 422, '[Labels]: Required')
    if (!store.canWrite(repo, c.get('caller'))) return fail(c, 403, 'user cannot change labels')
    const ids = body.labels.flatMap((l) =>
      typeof l === 'number' ? [l] : [...repo.labels.values()].filter((x) => x.name === l).map((x) => x.id),
    )
    // Gitea 1.26 skips ids it does not know and answers 200 with the issue's labels.
    const added = store.addLabels(repo, issue, ids)
    if (added.length > 0) {
      issue.updated = store.now()
      double.emitIssue(repo, issue, c.get('caller'), 'label_updated', 'label')
    }
    return c.json(render.issueLabels(repo, issue))
  })

  route('DELETE', '/repos/:owner/:repo/issues/:index{[0-9]+}/labels/:id{[0-9]+}', (c) => {
    const repo = c.get('repo')
    const issue = issueOr404(c)
    if (!issue) return fail(c, 404, 'issue does not exist')
    if (!store.canWrite(repo, c.get('caller'))) return fail(c, 403, 'user cannot change labels')
    const id = Number(c.req.param('id'))
    // Gitea: a label id the repository does not have is 422 (IsErrLabelNotExist).
    if (!repo.labels.has(id)) return fail(c, 422, `label does not exist [label_id: ${id}]`)
    if (issue.labelIds.includes(id)) {
      issue.labelIds = issue.labelIds.filter((x) => x !== id)
      issue.updated = store.now()
      double.emitIssue(repo, issue, c.get('caller'), 'label_updated', 'label')
    }
    return c.body(null, 204)
  })

  // ---- permissions, statuses, pull requests ---------------------------------------------

  route('GET', '/repos/:owner/:repo/collaborators/:collaborator/permission', (c) => {
    const repo = c.get('repo')
    const caller = c.get('caller')
    const login = c.req.param('collaborator') ?? ''
    // routers/api/v1/repo/collaborators.go GetRepoPermissions: the rule comes before the lookup.
    if (
      !caller.isAdmin &&
      caller.login.toLowerCase() !== login.toLowerCase() &&
      !store.canAdmin(repo, caller)
    )
      return fail(
        c,
        403,
        'Only admins can query all permissions, repo admins can query all repo permissions, collaborators can query only their own',
      )
    const user = store.userByLogin(login)
    if (!user) return fail(c, 404, `user redirect does not exist [name: ${login.toLowerCase()}]`)
    const mode = store.accessMode(repo, user)
    return c.json({ permission: mode, role_name: mode, user: render.user(user) })
  })

  route('POST', '/repos/:owner/:repo/statuses/:sha', async (c) => {
    const repo = c.get('repo')
    if (!store.canWrite(repo, c.get('caller'))) return fail(c, 403, 'user cannot write statuses')
    const body = await json(c)
    const state = typeof body?.state === 'string' ? body.state : ''
    if (!body || !COMMIT_STATES.includes(state)) return fail(c, 400, `invalid commit status state: ${state}`)
    let sha = c.req.param('sha') ?? ''
    if (repo.git) {
      // commitstatus_service.CreateCommitStatus looks the commit up first and the API answers
      // its error as a 500; a short sha is stored as the full one.
      const full = /^[0-9a-f]{4,40}$/i.test(sha)
        ? double.gitStorage.resolve(ownerLogin(repo), repo.name, sha)
        : undefined
      if (!full) return fail(c, 500, `GetCommit[${sha}]: object does not exist [id: ${sha}, rel_path: ]`)
      sha = full
    }
    const status = {
      id: store.nextId('status'),
      sha,
      state,
      context: typeof body.context === 'string' ? body.context : 'default',
      description: typeof body.description === 'string' ? body.description : '',
      targetUrl: typeof body.target_url === 'string' ? body.target_url : '',
      creatorId: c.get('caller').id,
      created: store.now(),
    }
    repo.statuses.push(status)
    return c.json(render.commitStatus(repo, status), 201)
  })

  route('GET', '/repos/:owner/:repo/statuses/:sha', (c) => {
    const repo = c.get('repo')
    const sha = c.req.param('sha') ?? ''
    const state = c.req.query('state')
    const statuses = repo.statuses
      .filter((s) => s.sha === sha && (state === undefined || s.state === state))
      // Gitea's default order is newest first; `sort=oldest` reverses it.
      .sort((a, b) => (c.req.query('sort') === 'oldest' ? a.id - b.id : b.id - a.id))
    c.header('X-Total-Count', String(statuses.length))
    return c.json(paging(c)(statuses).map((s) => render.commitStatus(repo, s)))
  })

  // ---- repository and branches (hosted repositories are real git repositories) ----------

  route('GET', '/repos/:owner/:repo', (c) => c.json(render.repository(c.get('repo'), c.get('caller'))))

  route('GET', '/repos/:owner/:repo/branches/:branch{.+}', (c) => {
    const repo = c.get('repo')
    const name = c.req.param('branch') ?? ''
    const sha = branchesOf(repo).get(name)
    if (!sha) return fail(c, 404, `branch does not exist [repo_id: ${repo.id} name: ${name}]`)
    const commit = double.gitStorage.commitInfo(ownerLogin(repo), repo.name, sha)
    return c.json(render.branch(repo, name, commit, c.get('caller')))
  })

  // ---- pull requests ---------------------------------------------------------------------

  route('GET', '/repos/:owner/:repo/pulls', (c) => {
    const repo = c.get('repo')
    const state = c.req.query('state') ?? 'open'
    const base = c.req.query('base_branch')
    // Gitea's default order (sortIssuesSession): newest first.
    const pulls = [...repo.issues.values()]
      .filter((i) => i.pull && (state === 'all' || i.state === state))
      .filter((i) => base === undefined || i.pull?.baseRef === base)
      .sort((a, b) => b.number - a.number)
    c.header('X-Total-Count', String(pulls.length))
    return c.json(paging(c)(pulls).map((i) => render.pullRequest(repo, i, c.get('caller'))))
  })

  route('POST', '/repos/:owner/:repo/pulls', async (c) => {
    const repo = c.get('repo')
    const caller = c.get('caller')
    const body = await json(c)
    // routers/api/v1/repo/pull.go CreatePullRequest, in Gitea's order.
    if (!body) return fail(c, 422, 'invalid JSON body')
    const field = (name: string) => (typeof body[name] === 'string' ? (body[name] as string) : '')
    for (const name of ['head', 'base', 'title']) {
      if (field(name).trim() === '')
        return fail(c, 422, `[${name[0]?.toUpperCase()}${name.slice(1)}]: Required`)
    }
    if (field('head') === field('base'))
      return fail(c, 422, 'Invalid PullRequest: There are no changes between the head and the base')
    // `owner:branch` names a fork's branch; the double has no forks, so only the repo's owner.
    const parts = field('head').split(':')
    if (
      parts.length > 2 ||
      (parts.length === 2 && parts[0]?.toLowerCase() !== ownerLogin(repo).toLowerCase())
    )
      return fail(c, 404, "The target couldn't be found.")
    const headName = parts[parts.length - 1] ?? ''
    const baseName = field('base')
    const branches = branchesOf(repo)
    const owner = ownerLogin(repo)
    const resolves = (rev: string) =>
      repo.git && double.gitStorage.resolve(owner, repo.name, rev) !== undefined
    // Unknown refs are 404; a tag or commit that is not a branch is 422.
    if (!branches.has(baseName) && !resolves(baseName)) return fail(c, 404, "The target couldn't be found.")
    if (!branches.has(headName) && !resolves(headName)) return fail(c, 404, "The target couldn't be found.")
    if (!branches.has(baseName) || !branches.has(headName))
      return fail(c, 422, 'Invalid PullRequest: base and head must be branches')
    const existing = [...repo.issues.values()].find(
      (i) =>
        i.state === 'open' &&
        i.pull &&
        !i.pull.merged &&
        i.pull.headRef === headName &&
        i.pull.baseRef === baseName,
    )
    if (existing?.pull) {
      return fail(
        c,
        409,
        `pull request already exists for these targets [id: ${existing.pull.id}, issue_id: ${existing.number}, head_repo_id: ${repo.id}, base_repo_id: ${repo.id}, head_branch: ${headName}, base_branch: ${baseName}]`,
      )
    }
    const headSha = branches.get(headName) ?? ''
    const writer = store.canWrite(repo, caller)
    const issue = double.openIssue(
      repo,
      caller,
      {
        title: field('title'),
        body: field('body'),
        labels: writer && Array.isArray(body.labels) ? body.labels.filter((l) => typeof l === 'number') : [],
        assignees:
          writer && Array.isArray(body.assignees) ? body.assignees.filter((a) => typeof a === 'string') : [],
      },
      {
        id: store.nextId('pull'),
        headRef: headName,
        headSha,
        baseRef: baseName,
        baseSha: branches.get(baseName) ?? '',
        merged: false,
        reviews: [],
        files: double.diffFiles(repo, baseName, headSha),
      },
    )
    return c.json(render.pullRequest(repo, issue, caller), 201)
  })

  route('GET', '/repos/:owner/:repo/pulls/:index{[0-9]+}', (c) => {
    const issue = issueOr404(c)
    if (!issue?.pull) return fail(c, 404, 'pull request does not exist')
    return c.json(render.pullRequest(c.get('repo'), issue, c.get('caller')))
  })

  route('GET', '/repos/:owner/:repo/pulls/:index{[0-9]+}/files', (c) => {
    const issue = issueOr404(c)
    if (!issue?.pull) return fail(c, 404, 'pull request does not exist')
    c.header('X-Total-Count', String(issue.pull.files.length))
    return c.json(paging(c)(issue.pull.files).map((f) => render.changedFile(c.get('repo'), issue, f)))
  })

  // routers/api/v1/repo/pull_review.go: ListPullReviews and CreatePullReview.
  route('GET', '/repos/:owner/:repo/pulls/:index{[0-9]+}/reviews', (c) => {
    const issue = issueOr404(c)
    if (!issue?.pull) return fail(c, 404, 'pull request does not exist')
    c.header('X-Total-Count', String(issue.pull.reviews.length))
    return c.json(paging(c)(issue.pull.reviews).map((r) => render.pullReview(c.get('repo'), issue, r)))
  })

  route('POST', '/repos/:owner/:repo/pulls/:index{[0-9]+}/reviews', async (c) => {
    const repo = c.get('repo')
    const caller = c.get('caller')
    const issue = issueOr404(c)
    if (!issue?.pull) return fail(c, 404, 'pull request does not exist')
    const body = await json(c)
    if (!body) return fail(c, 422, 'invalid JSON body')
    const text = typeof body.body === 'string' ? body.body : ''
    const comments = Array.isArray(body.comments) ? body.comments : []
    // preparePullReviewType: the event is upper-cased; anything unknown (or none) is PENDING.
    const event = typeof body.event === 'string' ? body.event.toUpperCase() : ''
    const state = ['APPROVED', 'REQUEST_CHANGES', 'COMMENT'].includes(event) ? event : 'PENDING'
    if ((state === 'APPROVED' || state === 'REQUEST_CHANGES') && issue.posterId === caller.id)
      return fail(
        c,
        422,
        state === 'APPROVED' ? 'approve your own pull is not allowed' : 'reject your own pull is not allowed',
      )
    if ((state === 'COMMENT' || state === 'REQUEST_CHANGES') && text.trim() === '' && comments.length === 0)
      return fail(c, 422, `review event ${event} requires a body`)
    const review = {
      id: store.nextId('review'),
      reviewerId: caller.id,
      state,
      body: text,
      // Without a commit id Gitea reviews the head commit.
      commitId:
        typeof body.commit_id === 'string' && body.commit_id !== '' ? body.commit_id : issue.pull.headSha,
      commentId: store.nextId('comment'),
      submitted: store.now(),
    }
    issue.pull.reviews.push(review)
    return c.json(render.pullReview(repo, issue, review), 200)
  })

  // Gitea's router answers 405 for a known path with another method.
  app.notFound((c) => {
    const path = new URL(c.req.url).pathname
    const allowed = patterns.filter((p) => p.pattern.test(path)).map((p) => p.method)
    if (allowed.length > 0) {
      c.header('Allow', [...new Set(allowed)].join(', '))
      return c.text('Method Not Allowed', 405)
    }
    return fail(c as C, 404, 'not found')
  })

  return app
}
