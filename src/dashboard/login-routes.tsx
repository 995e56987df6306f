import { createHash } from 'node:crypto'
import type { Context } from 'hono'
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie'
import { z } from 'zod'
import type { RedisClient } from '../queue/connection.js'
import { clientAddress, clientKey, trustedProxies } from '../server/client-address.js'
import { allowed, cookieOptions, logIn, logOut, sameToken, tokenFingerprint } from './access.js'
import type { DashboardApp, DashboardDeps, DashboardEnv } from './dashboard-env.js'
import { render } from './layout.js'
import { LoginThrottle, type LoginTurn } from './login-throttle.js'
import { DashboardUser, randomToken } from './sessions.js'

/** Binds a login form (and an OAuth2 round trip) to the browser that started it. */
const LOGIN_COOKIE = 'uw_dashboard_login'
const OAUTH_COOKIE = 'uw_dashboard_oauth'
/** How long an OAuth2 round trip or a login form may take. */
const PENDING_SECONDS = 600

const OAuthPending = z.object({ verifier: z.string().min(43), next: z.string() })

const oauthKey = (prefix: string, state: string) => `${prefix}:dashboard:oauth:${state}`
const onceKey = (prefix: string, token: string) =>
  `${prefix}:dashboard:once:${createHash('sha256').update(token).digest('hex')}`

/**
 * A one-time login link's token for `user` (the sandbox prints one at start): the first visit of
 * `<basePath>/login/once?token=…` within `ttlSeconds` logs in, later ones do not. As for every
 * session, the role is derived from the config on each request (`admins`, `siteAdmin`), not from
 * `user.role`.
 *
 * @example
 *   const token = await createLoginToken(redis, '{uw}', { login: 'wren', role: 'viewer', via: 'sandbox' })
 *   console.log(`${publicUrl}/dashboard/login/once?token=${token}`)
 */
export async function createLoginToken(
  redis: RedisClient,
  prefix: string,
  user: DashboardUser,
  ttlSeconds = 24 * 3600,
): Promise<string> {
  const token = randomToken()
  await redis.set(onceKey(prefix, token), JSON.stringify(DashboardUser.parse(user)), 'EX', ttlSeconds)
  return token
}

/** JSON from Redis, or undefined when it is not JSON (then its schema refuses it). */
function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw)
  } catch {
    return undefined
  }
}

/** The longest `next` kept (a page path with its filters is far shorter). */
export const MAX_NEXT_CHARS = 2048

/** `next` when it is a page of this dashboard (never another site), else the dashboard's root. */
export function safeNext(base: string, next: string | undefined): string {
  if (
    next &&
    next.length <= MAX_NEXT_CHARS &&
    (next === base || next.startsWith(`${base}/`)) &&
    !/[\\\s]|\/\//.test(next)
  )
    return next
  return `${base}/`
}

function roleOf(deps: DashboardDeps, login: string, siteAdmin: boolean): 'admin' | 'viewer' {
  const admins = new Set(deps.config.admins.map((a) => a.toLowerCase()))
  return siteAdmin || admins.has(login.toLowerCase()) ? 'admin' : 'viewer'
}

function secret(deps: DashboardDeps): string {
  return deps.config.sessionSecret?.reveal() ?? ''
}

function LoginForms(props: { deps: DashboardDeps; next: string; formToken: string; error?: string }) {
  const { deps } = props
  const base = deps.config.basePath
  return (
    <>
      {props.error && (
        <p class="notice error" role="alert">
          {props.error}
        </p>
      )}
      {deps.oauth && (
        <section aria-labelledby="with-gitea">
          <h2 id="with-gitea">With your Gitea account</h2>
          <p>
            <a href={`${base}/login/gitea?next=${encodeURIComponent(props.next)}`}>Log in with Gitea</a>
          </p>
        </section>
      )}
      {deps.config.tokens.length > 0 && (
        <section aria-labelledby="with-token">
          <h2 id="with-token">With a dashboard token</h2>
          <form class="stack" method="post" action={`${base}/login/token`}>
            <input type="hidden" name="_csrf" value={props.formToken} />
            <input type="hidden" name="next" value={props.next} />
            <label>
              Token
              <input type="password" name="token" autocomplete="current-password" required />
            </label>
            <div>
              <button type="submit">Log in</button>
            </div>
          </form>
        </section>
      )}
    </>
  )
}

async function loginPage(
  c: Context<DashboardEnv>,
  deps: DashboardDeps,
  next: string,
  problem?: { status: 400 | 403 | 429; error: string },
): Promise<Response> {
  const formToken = randomToken()
  await setSignedCookie(c, LOGIN_COOKIE, formToken, secret(deps), cookieOptions(deps, PENDING_SECONDS))
  return render(
    c,
    { title: 'Log in', status: problem?.status },
    <LoginForms deps={deps} next={next} formToken={formToken} error={problem?.error} />,
  )
}

/** The 429 page's reason: whose failures, how many in what window, when to come back. */
function tooManyFailures(
  deps: DashboardDeps,
  throttle: LoginThrottle,
  turn: Extract<LoginTurn, { allowed: false }>,
): string {
  const { perClient, overall, windowSeconds } = throttle.limits
  const window = `${Math.round(windowSeconds / 60)} minutes`
  const wait = `try again in ${Math.ceil(turn.retryAfterSeconds / 60)} minute(s)`
  const who =
    turn.scope === 'client'
      ? `Too many failed token logins from your address (${perClient} in ${window}): token login is paused for it`
      : `Too many failed token logins to this dashboard (${overall} in ${window}, from all addresses): token login is paused for everyone`
  return `${who}; ${wait}${deps.oauth ? ', or log in with Gitea' : ''}.`
}

/**
 * The routes that need no session: the login page, token login, Login with Gitea (OAuth2 with
 * `state` and PKCE), one-time links. Logout is registered with the pages (it needs a session).
 */
export function registerLogin(app: DashboardApp, deps: DashboardDeps): void {
  const base = deps.config.basePath
  const redirectUri = `${deps.publicUrl.replace(/\/+$/, '')}${base}/oauth/callback`
  const proxies = trustedProxies(deps.config.trustedProxies)
  const limits = deps.config.loginLimits
  const throttle =
    deps.loginThrottle ??
    new LoginThrottle(deps.redis, deps.prefix, {
      perClient: limits.perClient,
      overall: limits.overall,
      windowSeconds: Math.round(limits.windowMinutes * 60),
    })

  app.get('/login', (c) => loginPage(c, deps, safeNext(base, c.req.query('next'))))

  app.post('/login/token', async (c) => {
    const form = await c.req.parseBody()
    const next = safeNext(base, typeof form.next === 'string' ? form.next : undefined)
    const expected = await getSignedCookie(c, secret(deps), LOGIN_COOKIE)
    const given = typeof form._csrf === 'string' ? form._csrf : ''
    if (!expected || !sameToken(given, expected))
      return loginPage(c, deps, next, {
        status: 403,
        error: 'The login form expired or was not sent from this page; try again.',
      })
    const address = clientAddress(c, proxies)
    const client = clientKey(address)
    const turn = await throttle.attempt(client)
    if (!turn.allowed) {
      if (turn.firstRefusal)
        deps.log.warn(
          { client, address, scope: turn.scope, retryAfterSeconds: turn.retryAfterSeconds },
          'dashboard: token login refused: too many failed attempts',
        )
      c.header('Retry-After', String(turn.retryAfterSeconds))
      return loginPage(c, deps, next, { status: 429, error: tooManyFailures(deps, throttle, turn) })
    }
    const token = typeof form.token === 'string' ? form.token.trim() : ''
    // Every configured token is compared (in constant time), so timing does not tell which matched.
    let match: DashboardDeps['config']['tokens'][number] | undefined
    for (const t of deps.config.tokens)
      if (t.token && token && sameToken(token, t.token.reveal())) match ??= t
    if (!match) {
      deps.log.info({ client, address }, 'dashboard: token login failed (not a dashboard token)')
      return loginPage(c, deps, next, { status: 403, error: 'That token is not a dashboard token.' })
    }
    await throttle.succeeded(client, turn.attempt)
    deleteCookie(c, LOGIN_COOKIE, cookieOptions(deps, 0))
    const role = match.role === 'admin' ? 'admin' : roleOf(deps, match.login, false)
    await logIn(c, deps, {
      login: match.login,
      role,
      via: 'token',
      token: tokenFingerprint(secret(deps), token),
    })
    deps.log.info({ login: match.login, role, via: 'token' }, 'dashboard login')
    return c.redirect(next, 303)
  })

  app.get('/login/once', async (c) => {
    const token = c.req.query('token') ?? ''
    const raw = token ? await deps.redis.getdel(onceKey(deps.prefix, token)) : null
    const user = raw ? DashboardUser.safeParse(parseJson(raw)) : undefined
    if (!user?.success)
      return loginPage(c, deps, `${base}/`, {
        status: 403,
        error: 'That login link was already used or has expired.',
      })
    await logIn(c, deps, user.data)
    deps.log.info({ login: user.data.login, via: user.data.via }, 'dashboard login')
    return c.redirect(`${base}/`, 303)
  })

  app.get('/login/gitea', async (c) => {
    const oauth = deps.oauth
    if (!oauth) return c.text('Login with Gitea is not configured (dashboard.oauth)', 404)
    const state = randomToken()
    const verifier = randomToken(48)
    const next = safeNext(base, c.req.query('next'))
    await deps.redis.set(
      oauthKey(deps.prefix, state),
      JSON.stringify({ verifier, next }),
      'EX',
      PENDING_SECONDS,
    )
    await setSignedCookie(c, OAUTH_COOKIE, state, secret(deps), cookieOptions(deps, PENDING_SECONDS))
    return c.redirect(oauth.authorizeUrl({ state, codeVerifier: verifier, redirectUri }), 302)
  })

  app.get('/oauth/callback', async (c) => {
    const oauth = deps.oauth
    if (!oauth) return c.text('Login with Gitea is not configured (dashboard.oauth)', 404)
    const refuse = (error: string) => loginPage(c, deps, `${base}/`, { status: 400, error })
    const q = c.req.query()
    if (q.error) return refuse(`Gitea did not log you in (${q.error.slice(0, 100)}).`)
    const cookieState = await getSignedCookie(c, secret(deps), OAUTH_COOKIE)
    deleteCookie(c, OAUTH_COOKIE, cookieOptions(deps, 0))
    if (!q.state || !q.code || !cookieState || !sameToken(q.state, cookieState))
      return refuse(
        'The login came back with a state this browser did not start (state mismatch); try again.',
      )
    // Single use: a replayed callback finds nothing.
    const raw = await deps.redis.getdel(oauthKey(deps.prefix, q.state))
    const pending = raw ? OAuthPending.safeParse(parseJson(raw)) : undefined
    if (!pending?.success) return refuse('That login attempt expired or was already used; try again.')
    let who
    try {
      who = await oauth.identify({ code: q.code, codeVerifier: pending.data.verifier, redirectUri })
    } catch (err) {
      deps.log.warn({ err }, 'dashboard: Login with Gitea failed')
      return refuse(err instanceof Error ? err.message : 'Login with Gitea failed.')
    }
    const role = roleOf(deps, who.login, who.isAdmin)
    if (role !== 'admin' && !(await allowed(deps.config, who.login, deps.isOrgMember))) {
      deps.log.info({ login: who.login }, 'dashboard: login refused (not in dashboard.allow)')
      return loginPage(c, deps, `${base}/`, {
        status: 403,
        error: `${who.login} may not use this dashboard: the operators allow only some Gitea accounts (dashboard.allow). Ask them to add you.`,
      })
    }
    await logIn(c, deps, { login: who.login, role, via: 'oauth', siteAdmin: who.isAdmin })
    deps.log.info({ login: who.login, role, via: 'oauth' }, 'dashboard login')
    return c.redirect(safeNext(base, pending.data.next), 303)
  })
}

/** `POST /logout`: behind the session and its CSRF token like every form. */
export function registerLogout(app: DashboardApp, deps: DashboardDeps): void {
  app.post('/logout', async (c) => {
    await logOut(c, deps)
    return c.redirect(`${deps.config.basePath}/login`, 303)
  })
}
