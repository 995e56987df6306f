// Issue 16 F3: a job's live updates (SSE over real HTTP, one Redis connection each) open only for a
// job the user may see, and no more than 4 per session and `maxEventStreams` in all; the attack
// proof (40 streams from one session, for jobs that do not exist) rewritten to assert the limits.
import { Hono } from 'hono'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { STREAMS_PER_SESSION } from '../../src/dashboard/job-events.js'
import { RedisJobStore } from '../../src/jobs/job-store.js'
import { createRedis } from '../../src/queue/connection.js'
import { listen, type Listening } from '../../src/server/listen.js'
import { jobRecord } from '../helpers/job-records.js'
import { testRedisUrl } from '../helpers/redis.js'
import { ADMIN_TOKEN, Browser, dashboardWorld, VIEWER_TOKEN, type DashboardWorld } from './dashboard-world.js'

const connName = `uw-sse-limits-${process.pid}`
let world: DashboardWorld
let http: Listening
const inspector = createRedis(testRedisUrl(), 'worker')
const aborts: AbortController[] = []

const openReaders = async () =>
  ((await inspector.client('LIST')) as string).split('\n').filter((l) => l.includes(`name=${connName}`))
    .length

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000
  while (!(await check()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
}

beforeEach(async () => {
  world = await dashboardWorld({
    connect: () => createRedis(testRedisUrl(), 'worker', { connectionName: connName }),
    config: { maxEventStreams: 6 },
  })
  const store = new RedisJobStore(world.redis as never, world.prefix)
  await store.create(jobRecord({ id: 'j0000000000aa', state: 'running' }))
  const outer = new Hono()
  outer.route('/', world.app)
  http = await listen(outer, { host: '127.0.0.1', port: 0 })
})
afterEach(async () => {
  for (const ac of aborts.splice(0)) ac.abort()
  await waitFor(async () => (await openReaders()) === 0)
  await http.close().catch(() => undefined)
  await world.close()
})
afterAll(() => inspector.disconnect())

async function cookieFor(token: string): Promise<string> {
  const b = new Browser(world)
  await b.logInWithToken(token)
  return [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
}

async function subscribe(cookie: string, id = 'j0000000000aa'): Promise<Response> {
  const ac = new AbortController()
  aborts.push(ac)
  const res = await fetch(`${http.url}/dashboard/jobs/${id}/events?since=0-0`, {
    headers: { cookie, accept: 'text/event-stream' },
    signal: ac.signal,
  })
  if (res.status === 200)
    void res
      .body!.getReader()
      .read()
      .catch(() => undefined)
  return res
}

describe('live job updates: what one session can hold', () => {
  it('answers 404 for an unknown or malformed job id without opening a Redis connection', async () => {
    const cookie = await cookieFor(VIEWER_TOKEN)
    for (const id of ['j00000000dead', 'nonexistent1', 'x'.repeat(300)]) {
      const res = await subscribe(cookie, id)
      expect(res.status).toBe(404)
    }
    expect(await openReaders()).toBe(0)
  })

  it(`caps a session at ${STREAMS_PER_SESSION} streams and all sessions at maxEventStreams, with 429 and the reason`, async () => {
    const viewer = await cookieFor(VIEWER_TOKEN)
    const statuses: number[] = []
    for (let i = 0; i < 10; i++) statuses.push((await subscribe(viewer)).status)
    expect(statuses).toEqual([
      ...Array(STREAMS_PER_SESSION).fill(200),
      ...Array(10 - STREAMS_PER_SESSION).fill(429),
    ])
    const refused = await subscribe(viewer)
    expect(await refused.text()).toContain(`this session already has ${STREAMS_PER_SESSION} open`)
    await waitFor(async () => (await openReaders()) === STREAMS_PER_SESSION)
    expect(await openReaders()).toBe(STREAMS_PER_SESSION)

    // Another session gets the rest of the process's 6, then 429 naming the setting.
    const admin = await cookieFor(ADMIN_TOKEN)
    expect((await subscribe(admin)).status).toBe(200)
    expect((await subscribe(admin)).status).toBe(200)
    const full = await subscribe(admin)
    expect(full.status).toBe(429)
    expect(await full.text()).toContain('dashboard.maxEventStreams')

    // A stream that ends gives its place back.
    for (const ac of aborts.splice(0, 1)) ac.abort()
    await waitFor(async () => (await openReaders()) === 5)
    await waitFor(async () => (await subscribe(admin)).status === 200)
    expect(await openReaders()).toBeLessThanOrEqual(6)
  })
})
