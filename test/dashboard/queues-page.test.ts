// The queues page: bull-board over the real Redis and BullMQ, behind the dashboard's login;
// read-only for viewers (every change refused before it reaches bull-board), full for admins.
import { Queue } from 'bullmq'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createDashboardApp } from '../../src/dashboard/create-dashboard-app.js'
import { BoardQueues } from '../../src/jobs/board-queues.js'
import {
  ADMIN_TOKEN,
  Browser,
  dashboardWorld,
  ORIGIN,
  VIEWER_TOKEN,
  type DashboardWorld,
} from './dashboard-world.js'

let world: DashboardWorld
let board: BoardQueues
let queue: Queue

beforeEach(async () => {
  world = await dashboardWorld()
  board = new BoardQueues({ connection: world.redis, prefix: world.prefix, queues: ['events', 'house-ezra'] })
  world.deps.queueBoard = board
  // The page mounts bull-board at registration: a new app with the board in its deps.
  world = {
    ...world,
    app: createDashboardApp(world.deps),
  }
  queue = new Queue('house-ezra', { connection: world.redis, prefix: world.prefix })
  await queue.add('git_status', { jobId: 'j1' }, { jobId: 'j1' })
})
afterEach(async () => {
  await queue.close()
  await board.close()
  await world.close()
})

async function as(token: string): Promise<Browser> {
  const b = new Browser(world)
  await b.logInWithToken(token)
  return b
}

describe('the queues page', () => {
  it('needs a login', async () => {
    expect((await new Browser(world).request('/dashboard/queues')).status).toBe(303)
    expect((await new Browser(world).request('/dashboard/queues/api/queues')).status).toBe(303)
  })

  it("serves bull-board's UI and its static files, with inline styles allowed on its pages only", async () => {
    const b = await as(VIEWER_TOKEN)
    const page = await b.request('/dashboard/queues')
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).toContain('<base href="/dashboard/queues/"')
    const script = /src="(static\/js\/main\.[^"]+\.js)"/.exec(html)?.[1]
    expect(script).toBeDefined()
    const js = await b.request(`/dashboard/queues/${script}`)
    expect(js.status).toBe(200)
    expect(js.headers.get('content-type')).toMatch(/javascript/)
    const csp = page.headers.get('content-security-policy') ?? ''
    expect(csp).toMatch(/style-src 'self' 'unsafe-inline'/)
    expect(csp).toMatch(/script-src 'self'(;|$)/)
    expect(csp).toMatch(/base-uri 'self'/)
    const jobs = await b.request('/dashboard/jobs')
    expect(jobs.headers.get('content-security-policy')).not.toContain('unsafe-inline')
    expect(jobs.headers.get('content-security-policy')).toMatch(/base-uri 'none'/)
  })

  it('gives a viewer a read-only board and refuses every change', async () => {
    const b = await as(VIEWER_TOKEN)
    const api = (await (await b.request('/dashboard/queues/api/queues')).json()) as {
      queues: { name: string; readOnlyMode: boolean }[]
    }
    expect(api.queues.map((q) => [q.name, q.readOnlyMode]).sort()).toEqual([
      ['events', true],
      ['house-ezra', true],
    ])
    const pause = await b.request('/dashboard/queues/api/queues/house-ezra/pause', { method: 'PUT' })
    expect(pause.status).toBe(403)
    expect(await pause.text()).toContain('needs a dashboard admin')
    expect(await queue.isPaused()).toBe(false)
  })

  it('lets an admin change a queue from the dashboard origin only', async () => {
    const b = await as(ADMIN_TOKEN)
    const api = (await (await b.request('/dashboard/queues/api/queues')).json()) as {
      queues: { name: string; readOnlyMode: boolean }[]
    }
    expect(api.queues.every((q) => !q.readOnlyMode)).toBe(true)
    const foreign = await b.request('/dashboard/queues/api/queues/house-ezra/pause', {
      method: 'PUT',
      origin: 'https://evil.example',
    })
    expect(foreign.status).toBe(403)
    const crossSite = await b.request('/dashboard/queues/api/queues/house-ezra/pause', {
      method: 'PUT',
      headers: { 'sec-fetch-site': 'cross-site' },
    })
    expect(crossSite.status).toBe(403)
    expect(await queue.isPaused()).toBe(false)
    const pause = await b.request('/dashboard/queues/api/queues/house-ezra/pause', {
      method: 'PUT',
      origin: ORIGIN,
      headers: { 'sec-fetch-site': 'same-origin' },
    })
    expect(pause.status).toBeLessThan(300)
    expect(await queue.isPaused()).toBe(true)
  })
})
