// A brute force on the dashboard's token login, over real HTTP (sockets from different loopback
// addresses) and the real Redis: failures per client and overall are throttled with 429 and
// Retry-After, a right token is refused too while blocked, other clients are not, nothing logs a token.
import { request, type IncomingHttpHeaders } from 'node:http'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createDashboardApp } from '../../src/dashboard/create-dashboard-app.js'
import { DashboardConfig } from '../../src/dashboard/dashboard-config.js'
import { LoginThrottle, type LoginLimits } from '../../src/dashboard/login-throttle.js'
import { listen, type Listening } from '../../src/server/listen.js'
import { keysUnder } from '../helpers/redis.js'
import {
  ADMIN_TOKEN,
  dashboardWorld,
  ORIGIN,
  SESSION_SECRET,
  VIEWER_TOKEN,
  type DashboardWorld,
} from './dashboard-world.js'

const ATTACKER = '127.0.0.2'
const BYSTANDER = '127.0.0.3'
const PROXY = '127.0.0.4'
const WINDOW_S = 900

let world: DashboardWorld
let http: Listening
let now: number
let logLines: string[]

async function serve(limits: LoginLimits, config: Record<string, unknown> = {}): Promise<void> {
  logLines = []
  const log = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) })
  const throttle = new LoginThrottle(world.redis, world.prefix, limits, () => now)
  const app = createDashboardApp({
    ...world.deps,
    config: DashboardConfig.parse({ ...world.deps.config, ...config }),
    log,
    loginThrottle: throttle,
  })
  http = await listen(app as never, { host: '127.0.0.1', port: 0 })
}

beforeEach(async () => {
  now = Date.now()
  world = await dashboardWorld()
})
afterEach(async () => {
  await http?.close()
  await world.close()
})

interface Answer {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** One HTTP request from the socket address `from`. */
function send(
  from: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Answer> {
  const { port } = new URL(http.url)
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, localAddress: from, method, path, headers, agent: false },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => (text += d))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

/** A login attempt as a browser makes it: the form (its CSRF cookie), then the post. */
async function tryToken(from: string, token: string, headers: Record<string, string> = {}): Promise<Answer> {
  const page = await send(from, 'GET', '/dashboard/login', headers)
  const cookie = (page.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ')
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? ''
  return send(
    from,
    'POST',
    '/dashboard/login/token',
    { ...headers, cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
    new URLSearchParams({ _csrf: csrf, token, next: '/dashboard/' }).toString(),
  )
}

const wrong = (i: number) => `wrong-guess-${String(i).padStart(4, '0')}-abcdefgh`
const sessions = async () =>
  (await keysUnder(world.redis, world.prefix)).filter((k) => k.includes(':dashboard:session:'))
const sessionCookie = (a: Answer) =>
  (a.headers['set-cookie'] ?? []).some((c) => c.startsWith('uw_dashboard='))

describe('dashboard token login throttle', () => {
  it('blocks a brute force from one address, a right token too, until the window passes; others are unaffected', async () => {
    await serve({ perClient: 10, overall: 100, windowSeconds: WINDOW_S })
    for (let i = 0; i < 10; i++) expect((await tryToken(ATTACKER, wrong(i))).status).toBe(403)

    const refused = await tryToken(ATTACKER, wrong(10))
    expect(refused.status).toBe(429)
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(WINDOW_S - 60)
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(WINDOW_S)
    expect(refused.body).toContain('Too many failed token logins from your address (10 in 15 minutes)')

    // The right token from the blocked address is refused the same way: no session, no cookie.
    const right = await tryToken(ATTACKER, VIEWER_TOKEN)
    expect(right.status).toBe(429)
    expect(right.headers['retry-after']).toBeDefined()
    expect(sessionCookie(right)).toBe(false)
    expect(await sessions()).toEqual([])

    // Another address logs in as usual.
    const other = await tryToken(BYSTANDER, ADMIN_TOKEN)
    expect(other.status).toBe(303)
    expect(sessionCookie(other)).toBe(true)
    expect(await sessions()).toHaveLength(1)

    // Halfway through the window the attacker is still out; once its failures have left it, in.
    now += (WINDOW_S / 2) * 1000
    expect((await tryToken(ATTACKER, VIEWER_TOKEN)).status).toBe(429)
    now += (WINDOW_S / 2) * 1000 + 1000
    const later = await tryToken(ATTACKER, VIEWER_TOKEN)
    expect(later.status).toBe(303)
    expect(sessionCookie(later)).toBe(true)

    // One warning for the block (not one per refused guess), naming the address and never a token.
    const warnings = logLines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.level === 40)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatchObject({
      client: ATTACKER,
      scope: 'client',
      msg: expect.stringContaining('too many failed'),
    })
    const all = logLines.join('\n')
    for (const secret of [VIEWER_TOKEN, ADMIN_TOKEN, SESSION_SECRET, 'wrong-guess-'])
      expect(all).not.toContain(secret)
  })

  it('lets exactly the limit through when guesses arrive at once', async () => {
    await serve({ perClient: 10, overall: 100, windowSeconds: WINDOW_S })
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => tryToken(ATTACKER, wrong(i))))
    const statuses = answers.map((a) => a.status).sort()
    expect(statuses.filter((s) => s === 403)).toHaveLength(10)
    expect(statuses.filter((s) => s === 429)).toHaveLength(20)
  })

  it('does not count successful logins as failures', async () => {
    await serve({ perClient: 3, overall: 100, windowSeconds: WINDOW_S })
    for (let i = 0; i < 5; i++) expect((await tryToken(BYSTANDER, VIEWER_TOKEN)).status).toBe(303)
    for (let i = 0; i < 3; i++) expect((await tryToken(BYSTANDER, wrong(i))).status).toBe(403)
    expect((await tryToken(BYSTANDER, VIEWER_TOKEN)).status).toBe(429)
  })

  it('stops every token login once all addresses together reach the overall ceiling', async () => {
    await serve({ perClient: 3, overall: 5, windowSeconds: WINDOW_S })
    for (let i = 0; i < 3; i++) expect((await tryToken(ATTACKER, wrong(i))).status).toBe(403)
    for (let i = 0; i < 2; i++) expect((await tryToken(BYSTANDER, wrong(10 + i))).status).toBe(403)
    const everyone = await tryToken(PROXY, VIEWER_TOKEN)
    expect(everyone.status).toBe(429)
    expect(everyone.body).toContain('token login is paused for everyone')
    expect(await sessions()).toEqual([])
    const warning = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.level === 40)
    expect(warning).toMatchObject({ scope: 'overall' })
  })

  it('ignores X-Forwarded-For unless the socket is a trusted proxy', async () => {
    await serve({ perClient: 3, overall: 100, windowSeconds: WINDOW_S })
    // Untrusted: a new X-Forwarded-For on every guess changes nothing.
    for (let i = 0; i < 3; i++)
      expect((await tryToken(ATTACKER, wrong(i), { 'x-forwarded-for': `198.51.100.${i}` })).status).toBe(403)
    expect((await tryToken(ATTACKER, wrong(3), { 'x-forwarded-for': '198.51.100.99' })).status).toBe(429)
  })

  it('counts per forwarded client behind a trusted proxy, and a client cannot prepend its way out', async () => {
    await serve({ perClient: 3, overall: 100, windowSeconds: WINDOW_S }, { trustedProxies: [`${PROXY}/32`] })
    const via = (xff: string) => ({ 'x-forwarded-for': xff })
    // The attacker writes its own X-Forwarded-For; the proxy appends the address it saw (203.0.113.9).
    for (let i = 0; i < 3; i++)
      expect((await tryToken(PROXY, wrong(i), via(`10.9.9.${i}, 203.0.113.9`))).status).toBe(403)
    const blocked = await tryToken(PROXY, VIEWER_TOKEN, via('10.9.9.200, 203.0.113.9'))
    expect(blocked.status).toBe(429)
    // Someone else behind the same proxy is another client.
    expect((await tryToken(PROXY, VIEWER_TOKEN, via('203.0.113.10'))).status).toBe(303)
    const warning = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.level === 40)
    expect(warning).toMatchObject({ client: '203.0.113.9' })
  })
})
