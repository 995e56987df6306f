// Issue 16 F0: a dashboard user sees only the jobs of repositories they can read (as Gitea says,
// through the bot's GiteaPort against the Gitea double), on the list, the job page and its live
// updates; the attack proof (mallory reading alice's private job) rewritten to assert the safe behaviour.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Secret } from '../../src/config/secret.js'
import { giteaOAuth } from '../../src/dashboard/gitea-oauth.js'
import { JobVisibility } from '../../src/dashboard/job-visibility.js'
import { GiteaDouble } from '../../src/gitea/double/index.js'
import { GiteaJsAdapter } from '../../src/gitea/gitea-js-adapter.js'
import { RedisJobStore } from '../../src/jobs/job-store.js'
import { jobRecord } from '../helpers/job-records.js'
import {
  ADMIN_TOKEN,
  Browser,
  dashboardWorld,
  PUBLIC_URL,
  PUBLIC_VIEWER_TOKEN,
  VIEWER_TOKEN,
  type DashboardWorld,
} from './dashboard-world.js'

const GITEA = 'http://gitea.test'
const CALLBACK = `${PUBLIC_URL}/dashboard/oauth/callback`
let double: GiteaDouble
let world: DashboardWorld
let store: RedisJobStore
let permissionReads: number

beforeEach(async () => {
  double = new GiteaDouble({ baseUrl: GITEA })
  const bot = double.createUser({ login: 'uw-bot', isAdmin: true })
  double.createUser({ login: 'alice' })
  double.createUser({ login: 'bob' })
  // A stranger: a fresh account (open registration, or any employee), no access to alice's private repo.
  double.createUser({ login: 'mallory' })
  double.createRepo({ owner: 'alice', name: 'secret-plans', private: true })
  double.createRepo({ owner: 'alice', name: 'open-source' })
  double.addCollaborator({ owner: 'alice', name: 'secret-plans' }, 'bob', 'read')
  const app = double.createOAuthApp({ name: 'uni-wizard dashboard', redirectUris: [CALLBACK] })
  const port = new GiteaJsAdapter({
    baseUrl: GITEA,
    token: bot.token,
    fetch: (input, init) => double.fetch(new Request(input, init)),
  })
  permissionReads = 0
  const actions = {
    control: undefined,
    // As dashboardFromConfig wires it: the bot's token asks Gitea.
    permissionOf: (repo: { owner: string; name: string }, login: string) => {
      permissionReads++
      return port.getCollaboratorPermission(repo, login)
    },
    repoIsPublic: async (repo: { owner: string; name: string }) => !(await port.getRepository(repo)).private,
    sovereigns: [],
  }
  world = await dashboardWorld({
    oauth: giteaOAuth({
      giteaUrl: GITEA,
      clientId: app.clientId,
      clientSecret: new Secret(app.clientSecret),
      fetch: (input, init) => double.fetch(new Request(input, init)),
    }),
    actions,
    visibility: new JobVisibility(actions),
    isOrgMember: (org, login) => port.isOrgMember(org, login),
  })
  store = new RedisJobStore(world.redis as never, world.prefix)
  const secret = jobRecord({
    id: 'j00000000c0de',
    repo: 'alice/secret-plans',
    requester: 'alice',
    state: 'running',
  })
  await store.create(secret)
  await store.setResult(
    secret.runId,
    JSON.stringify({
      status: 'success',
      output: 'PRIVATE: db password rotation plan',
      truncatedBytes: 0,
      durationMs: 1,
      attempts: 1,
      notes: [],
      host: 'w1',
    }),
  )
  await store.create(
    jobRecord({ id: 'j0000000open', repo: 'alice/open-source', requester: 'alice', ageMs: 1000 }),
  )
})
afterEach(async () => {
  await world.close()
  double.close()
})

/** Login with Gitea as `login`, all the way through the double's authorize page. */
async function logInAs(b: Browser, login: string): Promise<Response> {
  const start = await b.request('/dashboard/login/gitea?next=/dashboard/jobs')
  const html = await (await double.fetch(new Request(start.headers.get('location')!))).text()
  const hidden = Object.fromEntries(
    [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1], m[2]]),
  )
  const grant = await double.fetch(
    new Request(`${GITEA}/login/oauth/grant`, {
      method: 'POST',
      body: new URLSearchParams({ ...hidden, login }),
      redirect: 'manual',
    }),
  )
  return b.request(grant.headers.get('location')!.replace(PUBLIC_URL, ''))
}

describe('who sees which jobs', () => {
  it('a Gitea user without access to a private repository sees none of its jobs: not listed, 404 page and stream', async () => {
    const b = new Browser(world)
    await logInAs(b, 'mallory')
    const list = await (await b.request('/dashboard/jobs')).text()
    expect(list).toMatch(/mallory <span class="role">\(viewer\)/)
    expect(list).not.toContain('alice/secret-plans')
    expect(list).not.toContain('j00000000c0de')
    // Public repositories' jobs are there for everyone.
    expect(list).toContain('j0000000open')
    const page = await b.request('/dashboard/jobs/j00000000c0de')
    expect(page.status).toBe(404)
    const html = await page.text()
    expect(html).not.toContain('PRIVATE')
    expect(html).toContain('There is no job j00000000c0de')
    // The same answer as for an id that does not exist: nothing tells the two apart.
    const unknown = await (await b.request('/dashboard/jobs/j00000000dead')).text()
    expect(html.replaceAll('j00000000c0de', 'X')).toBe(unknown.replaceAll('j00000000dead', 'X'))
    const stream = await b.request('/dashboard/jobs/j00000000c0de/events?since=0-0')
    expect(stream.status).toBe(404)
    // Filtering by the repository finds nothing either.
    const filtered = await (await b.request('/dashboard/jobs?repo=alice/secret-plans')).text()
    expect(filtered).toContain('No jobs match.')
  })

  it('a collaborator with read access, and an admin, see the private job', async () => {
    const bob = new Browser(world)
    await logInAs(bob, 'bob')
    expect(await (await bob.request('/dashboard/jobs')).text()).toContain('j00000000c0de')
    const page = await bob.request('/dashboard/jobs/j00000000c0de')
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('PRIVATE: db password rotation plan')
    const admin = new Browser(world)
    await admin.logInWithToken(ADMIN_TOKEN)
    expect((await admin.request('/dashboard/jobs/j00000000c0de')).status).toBe(200)
  })

  it('asks Gitea once per repository per minute, not once per row or page view', async () => {
    for (let i = 0; i < 20; i++)
      await store.create(
        jobRecord({
          id: `j0000000${String(i).padStart(4, '0')}`,
          repo: 'alice/secret-plans',
          ageMs: 2000 + i,
        }),
      )
    const b = new Browser(world)
    await logInAs(b, 'mallory')
    await b.request('/dashboard/jobs')
    await b.request('/dashboard/jobs')
    await b.request('/dashboard/jobs/j00000000c0de')
    // Two repositories, one read each.
    expect(permissionReads).toBe(2)
  })

  it('a viewer token sees public repositories only, unless configured seeAll', async () => {
    const pat = new Browser(world)
    await pat.logInWithToken(PUBLIC_VIEWER_TOKEN)
    const list = await (await pat.request('/dashboard/jobs')).text()
    expect(list).toContain('j0000000open')
    expect(list).not.toContain('j00000000c0de')
    expect((await pat.request('/dashboard/jobs/j00000000c0de')).status).toBe(404)
    const vic = new Browser(world)
    await vic.logInWithToken(VIEWER_TOKEN)
    expect((await vic.request('/dashboard/jobs/j00000000c0de')).status).toBe(200)
  })

  it('keeps the queues page (bull-board shows every job) to those who see every job', async () => {
    const b = new Browser(world)
    await logInAs(b, 'bob')
    for (const path of ['/dashboard/queues', '/dashboard/queues/api/queues']) {
      const res = await b.request(path)
      expect(res.status).toBe(403)
      expect(await res.text()).toContain('the queues page shows the jobs of every repository')
    }
    const pat = new Browser(world)
    await pat.logInWithToken(PUBLIC_VIEWER_TOKEN)
    expect((await pat.request('/dashboard/queues')).status).toBe(403)
    const vic = new Browser(world)
    await vic.logInWithToken(VIEWER_TOKEN)
    expect((await vic.request('/dashboard/queues')).status).toBe(200)
  })

  it('counts a Gitea error as "cannot read" and asks again next time', async () => {
    const b = new Browser(world)
    await logInAs(b, 'bob')
    double.faults.set({ status: 403, count: 1, match: { path: /\/collaborators\// } })
    expect((await b.request('/dashboard/jobs/j00000000c0de')).status).toBe(404)
    expect((await b.request('/dashboard/jobs/j00000000c0de')).status).toBe(200)
  })
})

describe('dashboard.allow', () => {
  it('refuses a Gitea account outside the allow-list at the callback, with a clear page; admins still get in', async () => {
    world.deps.config.allow = { logins: ['bob'], orgs: [] }
    world.deps.config.admins = ['alice']
    const mallory = new Browser(world)
    const res = await logInAs(mallory, 'mallory')
    expect(res.status).toBe(403)
    expect(await res.text()).toContain('mallory may not use this dashboard')
    expect(mallory.cookies.has('uw_dashboard')).toBe(false)
    expect((await mallory.request('/dashboard/jobs')).status).toBe(303)
    const bob = new Browser(world)
    expect((await logInAs(bob, 'Bob')).status).toBe(303)
    expect((await bob.request('/dashboard/jobs')).status).toBe(200)
    const alice = new Browser(world)
    expect((await logInAs(alice, 'alice')).status).toBe(303)
    // Taken out of the list later: the session ends at the next request.
    world.deps.config.allow = { logins: [], orgs: [] }
    expect((await bob.request('/dashboard/jobs')).status).toBe(303)
  })

  it('admits members of an allowed Gitea organisation, asked through the GiteaPort at login', async () => {
    double.createUser({ login: 'olga' })
    double.addOrgMember('ops-team', 'olga')
    double.addOrgMember('other-team', 'mallory')
    world.deps.config.allow = { logins: [], orgs: ['ops-team'] }
    const olga = new Browser(world)
    expect((await logInAs(olga, 'olga')).status).toBe(303)
    expect((await olga.request('/dashboard/jobs')).status).toBe(200)
    const mallory = new Browser(world)
    const refused = await logInAs(mallory, 'mallory')
    expect(refused.status).toBe(403)
    expect(await refused.text()).toContain('mallory may not use this dashboard')
    double.assertContract()
  })
})
