import type { ChildProcess } from 'node:child_process'
import { PassThrough, Readable } from 'node:stream'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import type { Context, Hono } from 'hono'
import type { DoubleStore, RepoRecord, UserRecord } from '../store.js'
import { runGitHttpBackend } from './git-http-backend.js'
import type { GitStorage } from './git-storage.js'

/** One git smart-HTTP request the double answered. */
export interface GitRequest {
  method: string
  /** Path and query as requested. */
  url: string
  service: 'upload-pack' | 'receive-pack' | 'none'
  /** The authenticated login, when credentials were valid. */
  login: string | undefined
  status: number
}

/** What the git routes need from the double. */
export interface GitHost {
  readonly store: DoubleStore
  readonly gitStorage: GitStorage
  readonly gitBackends: Set<ChildProcess>
  readonly gitRequests: GitRequest[]
  /** Called once a push's backend has exited, before the client sees the end of the answer. */
  afterPush(repo: RepoRecord, pusher: UserRecord): void
}

type Caller = { kind: 'anonymous' } | { kind: 'invalid' } | { kind: 'user'; user: UserRecord }

/**
 * Who a git request comes from, the way Gitea reads it: HTTP basic auth with an access token as
 * the password (any user name), or as the user name with an empty or `x-oauth-basic` password;
 * or `Authorization: token <t>` / `Bearer <t>`. The double has no passwords, so any other
 * credentials are invalid.
 */
export function gitCaller(store: DoubleStore, authorization: string | undefined): Caller {
  const header = (authorization ?? '').trim()
  if (header === '') return { kind: 'anonymous' }
  const byToken = (token: string): Caller => {
    const id = store.tokens.get(token)
    const user = id === undefined ? undefined : store.users.get(id)
    return user ? { kind: 'user', user } : { kind: 'invalid' }
  }
  const bearer = /^(?:token|bearer)\s+(\S+)$/i.exec(header)
  if (bearer) return byToken(bearer[1] ?? '')
  const basic = /^basic\s+(\S+)$/i.exec(header)
  if (!basic) return { kind: 'invalid' }
  const decoded = Buffer.from(basic[1] ?? '', 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  const name = colon < 0 ? decoded : decoded.slice(0, colon)
  const password = colon < 0 ? '' : decoded.slice(colon + 1)
  if (password !== '' && password !== 'x-oauth-basic') return byToken(password)
  return byToken(name)
}

const plain = (status: number, text: string, headers: Record<string, string> = {}) =>
  new Response(text, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8', ...headers } })

/**
 * Serves the double's hosted repositories over git's smart-HTTP protocol at Gitea's clone URL
 * (`/{owner}/{name}.git`), through `git http-backend`, with Gitea's access rules
 * (routers/web/repo/githttp.go): anonymous reads of public repositories; otherwise 401 with
 * `WWW-Authenticate: Basic realm="Gitea"` until valid credentials come; a signed-in user who
 * cannot read the repository gets 404 "Repository not found". Like Gitea with a git that
 * supports proc-receive, a push needs only read access over HTTP and the write check runs in
 * the pre-receive hook, together with the protected-branch and default-branch checks.
 */
export function registerGitRoutes<E extends object>(app: Hono<E>, host: GitHost): void {
  const handle = async (c: Context<E>, rpc: string | undefined) => {
    const url = new URL(c.req.url)
    const owner = c.req.param('owner') ?? ''
    const name = (c.req.param('repo') ?? '').replace(/\.git$/, '')
    const requested = rpc ?? url.searchParams.get('service') ?? ''
    const service =
      requested === 'git-receive-pack'
        ? 'receive-pack'
        : requested === 'git-upload-pack'
          ? 'upload-pack'
          : 'none'
    const record: GitRequest = {
      method: c.req.method,
      url: url.pathname + url.search,
      service,
      login: undefined,
      status: 0,
    }
    host.gitRequests.push(record)
    const done = (res: Response) => {
      record.status = res.status
      return res
    }
    // Only the smart protocol is served; Gitea answers 400 to an unknown service.
    if (service === 'none') return done(plain(400, 'unsupported git service'))
    if (rpc !== undefined && c.req.method !== 'POST') return done(plain(405, 'Method Not Allowed'))
    if (rpc === undefined && c.req.method !== 'GET') return done(plain(405, 'Method Not Allowed'))

    const { store } = host
    const repo = store.repo(owner, name)
    const hosted = repo?.git === true ? repo : undefined
    const isPull = service === 'upload-pack'
    const caller = gitCaller(store, c.req.header('authorization'))
    if (caller.kind === 'user') record.login = caller.user.login
    const isPublicPull = hosted !== undefined && !hosted.private && isPull
    if (caller.kind === 'invalid' || (!isPublicPull && caller.kind !== 'user')) {
      return done(plain(401, 'Unauthorized', { 'WWW-Authenticate': 'Basic realm="Gitea"' }))
    }
    if (!hosted) {
      // Gitea's push-to-create is off by default ([repository] ENABLE_PUSH_CREATE_USER).
      return done(
        service === 'receive-pack'
          ? plain(403, 'Push to create is not enabled for users.')
          : plain(404, 'Repository not found'),
      )
    }
    const user = caller.kind === 'user' ? caller.user : undefined
    if (user && !store.canRead(hosted, user)) return done(plain(404, 'Repository not found'))

    const { gitStorage } = host
    const canWrite = user !== undefined && store.canWrite(hosted, user)
    const raw = c.req.raw.body
    const response = await runGitHttpBackend(
      {
        method: c.req.method,
        pathInfo: `${gitStorage.relativePath(store.ownerOf(hosted).login, hosted.name)}${rpc ? `/${rpc}` : '/info/refs'}`,
        query: url.search.replace(/^\?/, ''),
        contentType: c.req.header('content-type'),
        contentLength: c.req.header('content-length'),
        contentEncoding: c.req.header('content-encoding'),
        gitProtocol: c.req.header('git-protocol'),
        remoteUser: user?.login,
        body: raw ? Readable.fromWeb(raw as unknown as WebReadableStream) : null,
      },
      {
        projectRoot: gitStorage.root,
        allowPush: service === 'receive-pack' && user !== undefined,
        hooksPath: gitStorage.hooksPath,
        hookEnv: {
          UW_DOUBLE_CAN_WRITE: canWrite ? '1' : '0',
          UW_DOUBLE_DEFAULT_BRANCH: hosted.defaultBranch,
          UW_DOUBLE_PROTECTED: [...hosted.protectedBranches].join(' '),
        },
        children: host.gitBackends,
      },
    )
    let body = response.body
    if (service === 'receive-pack' && rpc !== undefined && user) {
      // The API must show the push once `git push` returns: the answer ends only after the
      // backend exited and the double caught up (branches, pull request heads, webhooks).
      const relay = new PassThrough()
      response.body.pipe(relay, { end: false })
      response.body.once('end', () => {
        void response.exited.then(() => {
          try {
            host.afterPush(hosted, user)
          } finally {
            relay.end()
          }
        })
      })
      body = relay
    }
    return done(
      new Response(Readable.toWeb(body) as unknown as ReadableStream, {
        status: response.status,
        headers: response.headers,
      }),
    )
  }
  app.all('/:owner/:repo/info/refs', (c) => handle(c, undefined))
  app.all('/:owner/:repo/git-upload-pack', (c) => handle(c, 'git-upload-pack'))
  app.all('/:owner/:repo/git-receive-pack', (c) => handle(c, 'git-receive-pack'))
}
