import { Hono, type Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { csrf } from 'hono/csrf'
import { HTTPException } from 'hono/http-exception'
import { secureHeaders } from 'hono/secure-headers'
import { loadSession, requireCsrfToken, requireSeesAll, requireUser } from './access.js'
import type { DashboardApp, DashboardDeps, DashboardEnv, DashboardPage } from './dashboard-env.js'
import { render } from './layout.js'
import { registerLogin, registerLogout } from './login-routes.js'
import { pages as defaultPages } from './pages/index.js'
import { boardCsp, QUEUES_PATH } from './pages/queues-page.js'
import { DASHBOARD_CSS, DASHBOARD_JS } from './static-assets.js'

/** The largest request body any dashboard route reads (every form is far smaller). */
export const MAX_FORM_BYTES = 64 * 1024

/**
 * The operators' dashboard (docs/DASHBOARD.md): a Hono app whose routes already carry
 * `deps.config.basePath`; mount it with `app.route('/', createDashboardApp(deps))`. Every page
 * needs a session; every unsafe request must come from the dashboard's own origin (Origin or
 * Sec-Fetch-Site) and carry the session's CSRF token; every response carries strict security
 * headers (CSP: 'self' only).
 *
 * @example
 *   const dashboard = createDashboardApp({ config, log, redis, prefix, publicUrl, sessions, ... })
 *   app.route('/', dashboard)
 */
export function createDashboardApp(
  deps: DashboardDeps,
  pages: readonly DashboardPage[] = defaultPages,
): DashboardApp {
  const base = deps.config.basePath
  const nav = pages.flatMap((p) => (p.nav ? [p.nav] : []))
  const origin = new URL(deps.publicUrl).origin
  const app: DashboardApp = new Hono<DashboardEnv>({ strict: false }).basePath(base)

  const board = boardCsp(base)
  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // bull-board's pages alone may use inline styles and a <base> (queues-page.tsx says why).
        styleSrc: ["'self'", board.styleSrc],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: [board.baseUri],
        objectSrc: ["'none'"],
      },
      referrerPolicy: 'same-origin',
    }),
  )
  app.use(async (c, next) => {
    c.set('frame', { basePath: base, nav })
    await next()
    // Pages show who is logged in and what they may do: never from a shared cache.
    if (!c.res.headers.has('cache-control')) c.header('Cache-Control', 'no-store')
  })
  app.use(csrf({ origin }))
  // Before anything reads a form: no dashboard form comes near this, and the login form needs no session.
  app.use(
    bodyLimit({
      maxSize: MAX_FORM_BYTES,
      onError: (c) => c.text(`payload too large: a dashboard form is at most ${MAX_FORM_BYTES} bytes`, 413),
    }),
  )

  app.get('/static/dashboard.css', (c) =>
    c.body(DASHBOARD_CSS, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'max-age=300' }),
  )
  app.get('/static/dashboard.js', (c) =>
    c.body(DASHBOARD_JS, 200, {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'max-age=300',
    }),
  )

  app.use(loadSession(deps))
  registerLogin(app, deps)
  for (const page of pages) if (page.public) page.register(app, deps)

  // Everything below needs a session, and a CSRF token on unsafe methods.
  app.use(requireUser(deps), requireCsrfToken({ checksOwnOrigin: `${base}${QUEUES_PATH}/api/` }))
  registerLogout(app, deps)
  // bull-board shows every queued job's data (repository, arguments, results) and cannot be
  // filtered per repository: only for those who see every job (docs/DASHBOARD.md "Who sees what").
  const seesAll = requireSeesAll(deps)
  app.use(QUEUES_PATH, seesAll)
  app.use(`${QUEUES_PATH}/*`, seesAll)
  const start = (c: Context<DashboardEnv>) => c.redirect(`${base}${nav[0]?.path ?? '/login'}`, 303)
  app.get('/', start)
  for (const page of pages) if (!page.public) page.register(app, deps)
  app.all('*', (c) =>
    // Mounted on the ingress (a strict Hono app), `<base>/` does not reach the '/' route above.
    c.req.method === 'GET' && c.req.path === `${base}/`
      ? start(c)
      : render(c, { title: 'Not found', status: 404 }, <p>There is no dashboard page here.</p>),
  )

  app.onError((err, c) => {
    if (err instanceof HTTPException && err.status === 403)
      return c.text(
        `forbidden: this form was not sent from ${origin} (its Origin header, or Sec-Fetch-Site, says another site)`,
        403,
      )
    deps.log.error({ err, path: c.req.path }, 'dashboard: unhandled error')
    return c.text('internal error', 500)
  })
  return app
}
