import { timingSafeEqual, createHash, createHmac } from 'node:crypto'
import type { Context, MiddlewareHandler } from 'hono'
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie'
import type { DashboardConfig } from './dashboard-config.js'
import type { DashboardDeps, DashboardEnv } from './dashboard-env.js'
import type { DashboardUser } from './sessions.js'

/** The session cookie: an opaque random id, signed with the session secret. */
export const SESSION_COOKIE = 'uw_dashboard'

/**
 * Whether cookies must be `Secure`: always, unless the dashboard is reached over plain http on a
 * loopback host (the sandbox, a local try-out), where a browser would not send them back.
 */
export function secureCookies(publicUrl: string): boolean {
  const u = new URL(publicUrl)
  const host = u.hostname.replace(/^\[|\]$/g, '')
  const loopback = host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)
  return !(u.protocol === 'http:' && loopback)
}

/** Cookie options every dashboard cookie shares. */
export function cookieOptions(deps: DashboardDeps, maxAgeSeconds: number) {
  return {
    path: deps.config.basePath,
    httpOnly: true,
    secure: secureCookies(deps.publicUrl),
    sameSite: 'Lax' as const,
    maxAge: maxAgeSeconds,
  }
}

function sessionSecret(deps: DashboardDeps): string {
  const s = deps.config.sessionSecret
  if (!s) throw new Error('the dashboard needs a session secret (dashboard.sessionSecretEnv)')
  return s.reveal()
}

/** Starts a session for `user` and sets its cookie. */
export async function logIn(
  c: Context<DashboardEnv>,
  deps: DashboardDeps,
  user: DashboardUser,
): Promise<void> {
  const old = c.get('session')
  if (old) await deps.sessions.destroy(old.id)
  const session = await deps.sessions.create(user)
  const ttl = Math.round(Math.min(deps.config.sessionTtlHours, deps.config.sessionMaxHours) * 3600)
  await setSignedCookie(c, SESSION_COOKIE, session.id, sessionSecret(deps), cookieOptions(deps, ttl))
  c.set('session', session)
  c.set('user', user)
}

/** Ends the session (in Redis, and the cookie). */
export async function logOut(c: Context<DashboardEnv>, deps: DashboardDeps): Promise<void> {
  const session = c.get('session')
  if (session) await deps.sessions.destroy(session.id)
  deleteCookie(c, SESSION_COOKIE, cookieOptions(deps, 0))
  c.set('session', undefined)
  c.set('user', undefined)
}

/**
 * Which configured token a session was made with, without keeping the token: an HMAC under the
 * session secret (so the stored value is useless without the secret).
 */
export function tokenFingerprint(secret: string, token: string): string {
  return createHmac('sha256', secret).update(token).digest('base64url')
}

/**
 * The user a session stands for under the current config: the role is derived again on every
 * request (a login removed from `admins` is a viewer at once), a token login follows its token's
 * current entry and ends when the token is no longer configured, and a Gitea login outside
 * `allow.logins` ends. undefined: the session no longer grants anything.
 */
export async function currentUser(
  config: DashboardConfig,
  secret: string,
  user: DashboardUser,
): Promise<DashboardUser | undefined> {
  const admins = new Set(config.admins.map((a) => a.toLowerCase()))
  if (user.via === 'token') {
    const entry = config.tokens.find(
      (t) => t.token && user.token && sameToken(tokenFingerprint(secret, t.token.reveal()), user.token),
    )
    if (!entry) return undefined
    const admin = entry.role === 'admin' || admins.has(entry.login.toLowerCase())
    return { ...user, login: entry.login, role: admin ? 'admin' : 'viewer', seeAll: entry.seeAll }
  }
  const admin = user.siteAdmin === true || admins.has(user.login.toLowerCase())
  if (!admin && !(await allowed(config, user.login))) return undefined
  return { ...user, role: admin ? 'admin' : 'viewer' }
}

/**
 * Whether `allow` lets this (non-admin) Gitea login in: always when `allow` is not configured;
 * else when it is in `allow.logins`, or (`orgMember` given) a member of one of `allow.orgs`.
 * Without `orgMember` (on each request) a login admitted by an org stays in while orgs are configured.
 */
export async function allowed(
  config: DashboardConfig,
  login: string,
  orgMember?: (org: string, login: string) => Promise<boolean>,
): Promise<boolean> {
  const allow = config.allow
  if (!allow) return true
  if (allow.logins.some((l) => l.toLowerCase() === login.toLowerCase())) return true
  if (!orgMember) return allow.orgs.length > 0
  for (const org of allow.orgs) if (await orgMember(org, login).catch(() => false)) return true
  return false
}

/** Reads the session cookie (when its signature holds) and its session, for every route. */
export function loadSession(deps: DashboardDeps): MiddlewareHandler<DashboardEnv> {
  return async (c, next) => {
    const id = await getSignedCookie(c, sessionSecret(deps), SESSION_COOKIE)
    let session = id ? await deps.sessions.get(id) : undefined
    const user = session && (await currentUser(deps.config, sessionSecret(deps), session.user))
    if (session && !user) {
      // The credential or the right that made this session is gone: so is the session.
      await deps.sessions.destroy(session.id)
      deleteCookie(c, SESSION_COOKIE, cookieOptions(deps, 0))
      session = undefined
    }
    c.set('session', session && user && { ...session, user })
    c.set('user', user)
    await next()
  }
}

/** No user: a page request is sent to the login page (with where it wanted to go); anything else gets 401. */
export function requireUser(deps: DashboardDeps): MiddlewareHandler<DashboardEnv> {
  return async (c, next) => {
    if (c.get('user')) return next()
    const base = deps.config.basePath
    // A page is sent to log in; an event stream (EventSource cannot follow to a login form) gets 401.
    const stream =
      c.req.path.endsWith('/events') || (c.req.header('accept') ?? '').includes('text/event-stream')
    if (c.req.method === 'GET' && !stream) {
      const back = c.req.path + (new URL(c.req.url).search || '')
      return c.redirect(`${base}/login?next=${encodeURIComponent(back)}`, 303)
    }
    return c.text('log in first: this needs a dashboard session', 401)
  }
}

/** Only admins (configured `admins`, Gitea site admins, admin tokens); others get 403 with the reason. */
export function requireAdmin(): MiddlewareHandler<DashboardEnv> {
  return async (c, next) => {
    const user = c.get('user')
    if (user?.role === 'admin') return next()
    return c.text(
      `forbidden: this needs a dashboard admin; you are logged in as ${user?.login ?? 'nobody'} (viewer)`,
      403,
    )
  }
}

/** Only users who see every job (admins, sovereigns, `seeAll` tokens); others get 403 with the reason. */
export function requireSeesAll(deps: DashboardDeps): MiddlewareHandler<DashboardEnv> {
  return async (c, next) => {
    const user = c.get('user')
    if (user && deps.visibility.seesAll(user)) return next()
    return c.text(
      `forbidden: the queues page shows the jobs of every repository, so it needs a dashboard admin (or a token with seeAll); ${user?.login ?? 'nobody'} sees only the jobs of repositories they can read, on the jobs page`,
      403,
    )
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest()

/** Constant-time comparison of two tokens of any length. */
export function sameToken(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected))
}

/**
 * The per-session CSRF token, on every unsafe request behind a session (besides Hono's Origin
 * check): a form carries it as `_csrf`, a script as the `x-csrf-token` header. A missing or wrong
 * token is refused with 403 and nothing happens.
 */
export function requireCsrfToken(
  opts: {
    /** A path prefix whose routes check the request's origin themselves (bull-board's API: its UI cannot send the token). */
    checksOwnOrigin?: string
  } = {},
): MiddlewareHandler<DashboardEnv> {
  return async (c, next) => {
    if (/^(GET|HEAD|OPTIONS)$/.test(c.req.method)) return next()
    if (opts.checksOwnOrigin && c.req.path.startsWith(opts.checksOwnOrigin)) return next()
    const session = c.get('session')
    let given = c.req.header('x-csrf-token')
    if (
      given === undefined &&
      /^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(c.req.header('content-type') ?? '')
    ) {
      const form = await c.req.parseBody()
      given = typeof form._csrf === 'string' ? form._csrf : undefined
    }
    if (!session || !given || !sameToken(given, session.csrf))
      return c.text(
        'forbidden: the form is missing its CSRF token or it does not match your session; reload the page and try again',
        403,
      )
    return next()
  }
}
