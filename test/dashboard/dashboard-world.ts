// A dashboard over the real test Redis, with a unique prefix, and a cookie jar to act as one browser.
import { pino } from 'pino'
import { Secret } from '../../src/config/secret.js'
import { DashboardConfig } from '../../src/dashboard/dashboard-config.js'
import type { DashboardDeps, DashboardPage } from '../../src/dashboard/dashboard-env.js'
import { createDashboardApp } from '../../src/dashboard/create-dashboard-app.js'
import { RedisSessions } from '../../src/dashboard/sessions.js'
import { RedisJobStore } from '../../src/jobs/job-store.js'
import { createRedis, type RedisClient } from '../../src/queue/connection.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

export const PUBLIC_URL = 'https://bot.example.test'
export const ORIGIN = PUBLIC_URL
export const SESSION_SECRET = 'session-secret-0123456789-abcdefghijklmnop'
export const VIEWER_TOKEN = 'viewer-token-0123456789abcdef'
export const ADMIN_TOKEN = 'admin-token-0123456789abcdef'

export interface DashboardWorld {
  redis: RedisClient
  prefix: string
  app: ReturnType<typeof createDashboardApp>
  deps: DashboardDeps
  close(): Promise<void>
}

/** A dashboard at `/dashboard` with a viewer and an admin token, over the real Redis. */
export async function dashboardWorld(
  overrides: Partial<DashboardDeps> & { config?: Record<string, unknown>; pages?: DashboardPage[] } = {},
): Promise<DashboardWorld> {
  const redis = createRedis(testRedisUrl(), 'worker')
  const prefix = uniquePrefix()
  const config = DashboardConfig.parse({
    enabled: true,
    sessionSecret: new Secret(SESSION_SECRET),
    admins: ['ada'],
    tokens: [
      { tokenEnv: 'T_VIEWER', token: new Secret(VIEWER_TOKEN), login: 'vic', role: 'viewer' },
      { tokenEnv: 'T_ADMIN', token: new Secret(ADMIN_TOKEN), login: 'ann', role: 'admin' },
    ],
    ...overrides.config,
  })
  const { pages, config: _c, ...rest } = overrides
  const deps: DashboardDeps = {
    config,
    log: pino({ level: 'silent' }),
    redis,
    prefix,
    publicUrl: PUBLIC_URL,
    sessions: new RedisSessions(redis, prefix, 3600),
    houses: ['timmy', 'ezra', 'bezalel', 'allegro'],
    store: new RedisJobStore(redis, prefix),
    actions: { control: undefined, permissionOf: undefined, sovereigns: ['sage'] },
    trustedKeys: () => [],
    connect: () => createRedis(testRedisUrl(), 'worker'),
    keepaliveMs: 200,
    ...rest,
  }
  const app = createDashboardApp(deps, pages)
  return {
    redis,
    prefix,
    app,
    deps,
    close: async () => {
      await cleanupPrefix(prefix)
      redis.disconnect()
    },
  }
}

/** A browser: keeps cookies between requests and sends the dashboard's Origin on unsafe ones. */
export class Browser {
  readonly cookies = new Map<string, string>()

  constructor(private readonly world: DashboardWorld) {}

  async request(path: string, init: RequestInit & { origin?: string | null } = {}): Promise<Response> {
    const headers = new Headers(init.headers)
    if (this.cookies.size > 0)
      headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '))
    const method = init.method ?? 'GET'
    if (method !== 'GET' && init.origin !== null) headers.set('origin', init.origin ?? ORIGIN)
    const res = await this.world.app.request(`${PUBLIC_URL}${path}`, { ...init, method, headers })
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';')
      const i = pair!.indexOf('=')
      const name = pair!.slice(0, i)
      const value = pair!.slice(i + 1)
      if (value === '' || /max-age=0/i.test(c)) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    return res
  }

  /** Posts a form (urlencoded). */
  post(
    path: string,
    fields: Record<string, string>,
    init: { origin?: string | null } = {},
  ): Promise<Response> {
    return this.request(path, {
      method: 'POST',
      body: new URLSearchParams(fields),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      ...init,
    })
  }

  /** Logs in through the token form, as a person would. */
  async logInWithToken(token: string): Promise<Response> {
    const page = await (await this.request('/dashboard/login')).text()
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? ''
    return this.post('/dashboard/login/token', { _csrf: csrf, token, next: '/dashboard/' })
  }

  /** The session's CSRF token, read from a page's logout form. */
  async csrfToken(path = '/dashboard/login'): Promise<string> {
    const page = await (await this.request(path)).text()
    return /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? ''
  }
}
