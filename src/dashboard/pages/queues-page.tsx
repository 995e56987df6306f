import { createBullBoard } from '@bull-board/api'
import { HonoAdapter } from '@bull-board/hono'
import { serveStatic } from '@hono/node-server/serve-static'
import { Hono, type Context } from 'hono'
import type { QueueBoardSource } from '../../jobs/board-queues.js'
import type { DashboardEnv, DashboardPage } from '../dashboard-env.js'
import { render } from '../layout.js'

/** Where bull-board is mounted, under the dashboard's base path. */
export const QUEUES_PATH = '/queues'

/** One bull-board app (its UI, static files and JSON API) at `<basePath>/queues`. */
function board(source: QueueBoardSource, mount: string, readOnly: boolean): Hono {
  const serverAdapter = new HonoAdapter(serveStatic).setBasePath(mount)
  createBullBoard({
    queues: source.adapters(readOnly),
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: readOnly ? 'uni-wizard queues (read-only)' : 'uni-wizard queues',
        // Links back to the dashboard; the board has no logout of its own.
        miscLinks: [{ text: 'Back to the dashboard', url: mount.slice(0, -QUEUES_PATH.length) + '/' }],
        hideDocsLink: true,
      },
    },
  })
  return new Hono().route(mount, serverAdapter.registerPlugin())
}

/**
 * What bull-board's UI needs of the CSP, on its pages alone: inline styles (its loading screen,
 * React style attributes) and a `<base href>` to its own path (it loads everything relative to
 * it). Scripts stay 'self' only. Elsewhere: no inline style, `base-uri 'none'`.
 */
export function boardCsp(basePath: string) {
  const onBoard = (c: Context) => c.req.path.startsWith(`${basePath}${QUEUES_PATH}`)
  return {
    styleSrc: (c: Context) => (onBoard(c) ? "'unsafe-inline'" : ''),
    baseUri: (c: Context) => (onBoard(c) ? "'self'" : "'none'"),
  }
}

/**
 * Whether an unsafe request to bull-board's API comes from the dashboard's own pages: its UI
 * cannot carry the session's CSRF token, so the browser's `Origin` (sent with every fetch that is
 * not a GET) or `Sec-Fetch-Site` must say so.
 */
function sameOrigin(c: Context<DashboardEnv>, origin: string): boolean {
  const site = c.req.header('sec-fetch-site')
  if (site !== undefined) return site === 'same-origin' && (c.req.header('origin') ?? origin) === origin
  return c.req.header('origin') === origin
}

/**
 * `/queues`: bull-board over the bot's queues (events, reports, one per house), behind the
 * dashboard's login. Viewers get a read-only board and any change is refused with 403 before it
 * reaches bull-board; admins get the full board (retry, promote, clean, pause, add).
 */
export const queuesPage: DashboardPage = {
  nav: { label: 'Queues', path: QUEUES_PATH },
  register(app, deps) {
    const mount = `${deps.config.basePath}${QUEUES_PATH}`
    const origin = new URL(deps.publicUrl).origin
    if (!deps.queueBoard) {
      app.get(QUEUES_PATH, (c) =>
        render(c, { title: 'Queues' }, <p>This process was started without access to the queues.</p>),
      )
      return
    }
    const viewer = board(deps.queueBoard, mount, true)
    const admin = board(deps.queueBoard, mount, false)
    const serve = async (c: Context<DashboardEnv>) => {
      const admitted = c.get('user')?.role === 'admin'
      if (!/^(GET|HEAD)$/.test(c.req.method)) {
        if (!admitted)
          return c.text(
            `forbidden: changing queues needs a dashboard admin; you are logged in as ${c.get('user')?.login ?? 'nobody'} (viewer)`,
            403,
          )
        if (!sameOrigin(c, origin)) return c.text(`forbidden: this request was not sent from ${origin}`, 403)
      }
      return (admitted ? admin : viewer).fetch(c.req.raw)
    }
    app.all(QUEUES_PATH, serve)
    app.all(`${QUEUES_PATH}/*`, serve)
  },
}
