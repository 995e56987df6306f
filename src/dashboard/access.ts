import { timingSafeEqual, createHash } from 'node:crypto'
import type { Context, MiddlewareHandler } from 'hono'
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie'
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
  const ttl = Math.round(deps.config.sessionTtlHours * 3600)
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

/** Reads the session cookie (when its signature holds) and its session, for every route. */
export function loadSession(deps: DashboardDeps): MiddlewareHandler<DashboardEnv> {
  return async (c, next) => {
    const id = await getSignedCookie(c, sessionSecret(deps), SESSION_COOKIE)
    const session = id ? await deps.sessions.get(id) : undefined
    c.set('session', session)
    c.set('user', session?.user)
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
