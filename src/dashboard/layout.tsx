import type { Context } from 'hono'
import type { Child } from 'hono/jsx'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { DashboardEnv, NavItem } from './dashboard-env.js'
import type { DashboardUser } from './sessions.js'

export interface LayoutProps {
  title: string
  basePath: string
  nav: readonly NavItem[]
  /** The request's path relative to the base path, to mark the current nav entry. */
  current: string
  user: DashboardUser | undefined
  /** The session's CSRF token, for the logout form. */
  csrf: string | undefined
  children?: Child
}

/**
 * Every dashboard page's frame: a skip link, the navigation landmark, `main` and the logged-in
 * user with a logout button. Styles and scripts are static files (the CSP allows only 'self').
 *
 * @example
 *   <Layout title="Jobs" basePath="/dashboard" nav={nav} current="/jobs" user={user} csrf={token}>…</Layout>
 */
export function Layout(props: LayoutProps) {
  const { basePath, user } = props
  const isCurrent = (path: string) => props.current === path || props.current.startsWith(`${path}/`)
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · uni-wizard`}</title>
        <link rel="stylesheet" href={`${basePath}/static/dashboard.css`} />
        <script src={`${basePath}/static/dashboard.js`} defer></script>
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href={`${basePath}/`}>
            uni-wizard
          </a>
          {user && (
            <nav aria-label="Dashboard">
              <ul>
                {props.nav.map((item) => (
                  <li>
                    <a
                      href={`${basePath}${item.path}`}
                      aria-current={isCurrent(item.path) ? 'page' : undefined}
                    >
                      {item.label}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
          )}
          {user && (
            <form class="who" method="post" action={`${basePath}/logout`}>
              <span>
                {user.login} <span class="role">({user.role})</span>
              </span>
              <input type="hidden" name="_csrf" value={props.csrf ?? ''} />
              <button type="submit">Log out</button>
            </form>
          )}
        </header>
        <main id="main" tabindex={-1}>
          <h1>{props.title}</h1>
          {props.children}
        </main>
      </body>
    </html>
  )
}

/**
 * Renders `content` in the Layout for this request (its user, nav and CSRF token).
 *
 * @example
 *   app.get('/houses', (c) => render(c, { title: 'Houses' }, <HouseTable houses={houses} />))
 */
export function render(
  c: Context<DashboardEnv>,
  page: { title: string; status?: ContentfulStatusCode },
  content: Child,
): Response | Promise<Response> {
  const { basePath, nav } = c.get('frame')
  const session = c.get('session')
  const current = c.req.path.slice(basePath.length) || '/'
  return c.html(
    '<!doctype html>' +
      String(
        <Layout
          title={page.title}
          basePath={basePath}
          nav={nav}
          current={current}
          user={c.get('user')}
          csrf={session?.csrf}
        >
          {content}
        </Layout>,
      ),
    page.status ?? 200,
  )
}

/** The hidden field every form carries: the session's CSRF token. */
export function CsrfField(props: { token: string | undefined }) {
  return <input type="hidden" name="_csrf" value={props.token ?? ''} />
}
