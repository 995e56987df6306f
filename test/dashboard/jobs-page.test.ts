// The jobs page over the real Redis: newest first, filters, paging, links to the Gitea comments.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { RedisJobStore } from '../../src/jobs/job-store.js'
import { jobRecord } from '../helpers/job-records.js'
import { Browser, dashboardWorld, VIEWER_TOKEN, type DashboardWorld } from './dashboard-world.js'

let world: DashboardWorld
let browser: Browser
beforeEach(async () => {
  world = await dashboardWorld()
  const store = new RedisJobStore(world.redis as never, world.prefix)
  await store.create(jobRecord({ id: 'j1', house: 'ezra', ageMs: 30, ackCommentId: 71 }))
  await store.create(jobRecord({ id: 'j2', state: 'failure', requester: 'ann', ageMs: 20 }))
  await store.create(jobRecord({ id: 'j3', repo: 'other/repo', ageMs: 10, ackCommentId: undefined }))
  browser = new Browser(world)
  await browser.logInWithToken(VIEWER_TOKEN)
})
afterEach(async () => {
  await world.close()
})

const jobIds = (html: string) => [...html.matchAll(/href="\/dashboard\/jobs\/([^"]+)"/g)].map((m) => m[1])

describe('the jobs page', () => {
  it('is where the dashboard starts, and is in the navigation', async () => {
    const root = await browser.request('/dashboard/')
    expect(root.headers.get('location')).toBe('/dashboard/jobs')
    const html = await (await browser.request('/dashboard/jobs')).text()
    expect(html).toMatch(/<a href="\/dashboard\/jobs" aria-current="page">Jobs<\/a>/)
  })

  it('lists jobs newest first, each linking to its page and its comment in Gitea', async () => {
    const html = await (await browser.request('/dashboard/jobs')).text()
    expect(jobIds(html)).toEqual(['j3', 'j2', 'j1'])
    expect(html).toContain('href="http://gitea.test/demo/sandbox/issues/1#issuecomment-71"')
    // No ack comment yet: the command's comment.
    expect(html).toContain('href="http://gitea.test/other/repo/issues/1#issuecomment-10"')
  })

  it.each([
    ['house=ezra', ['j1']],
    ['state=failure', ['j2']],
    ['repo=other%2Frepo', ['j3']],
    ['requester=ann', ['j2']],
    ['house=&state=&repo=&requester=', ['j3', 'j2', 'j1']],
    ['state=queued&house=bezalel', ['j3']],
  ])('filters with %s', async (query, expected) => {
    const html = await (await browser.request(`/dashboard/jobs?${query}`)).text()
    expect(jobIds(html)).toEqual(expected)
  })

  it('keeps the chosen filters selected in the form', async () => {
    const html = await (await browser.request('/dashboard/jobs?state=failure&requester=ann')).text()
    expect(html).toContain('<option value="failure" selected="">failure</option>')
    expect(html).toContain('name="requester" value="ann"')
  })

  it('refuses a bad filter with 400 and the reason', async () => {
    const res = await browser.request('/dashboard/jobs?state=exploded')
    expect(res.status).toBe(400)
    expect(await res.text()).toContain('Bad filter state')
    expect((await browser.request('/dashboard/jobs?color=red')).status).toBe(400)
  })

  it('pages with a cursor link that keeps the filters', async () => {
    const store = new RedisJobStore(world.redis as never, world.prefix)
    for (let i = 0; i < 60; i++) await store.create(jobRecord({ id: `p${i}`, house: 'timmy', ageMs: -i - 1 }))
    const first = await (await browser.request('/dashboard/jobs?house=timmy')).text()
    expect(jobIds(first)).toHaveLength(50)
    expect(jobIds(first)[0]).toBe('p59')
    const next = /href="([^"]+)" rel="next"/.exec(first)?.[1]?.replace(/&amp;/g, '&')
    expect(next).toMatch(/house=timmy&cursor=/)
    const second = await (await browser.request(next!)).text()
    expect(jobIds(second)).toEqual(['p9', 'p8', 'p7', 'p6', 'p5', 'p4', 'p3', 'p2', 'p1', 'p0'])
    expect(second).not.toContain('rel="next"')
  })
})
