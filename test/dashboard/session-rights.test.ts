// Issue 16 F4: a session never outlives the credential or role that made it, nor its absolute
// lifetime; the attack proof (a leaked admin token's session stays admin after the token is
// removed) rewritten to assert the safe behaviour.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Secret } from '../../src/config/secret.js'
import { createDashboardApp } from '../../src/dashboard/create-dashboard-app.js'
import { DashboardConfig } from '../../src/dashboard/dashboard-config.js'
import { RedisSessions } from '../../src/dashboard/sessions.js'
import {
  ADMIN_TOKEN,
  Browser,
  dashboardWorld,
  SESSION_SECRET,
  VIEWER_TOKEN,
  type DashboardWorld,
} from './dashboard-world.js'

let world: DashboardWorld
beforeEach(async () => {
  world = await dashboardWorld()
})
afterEach(async () => {
  await world.close()
})

const sessionKeys = () => world.redis.keys(`${world.prefix}:dashboard:session:*`)
const roleShown = (page: string) => /<span class="role">\(([^)]*)\)/.exec(page)?.[1]

/** The same dashboard restarted with `config` over the same Redis, and `b`'s cookies. */
function restarted(b: Browser, config: Record<string, unknown>): Browser {
  const parsed = DashboardConfig.parse({
    enabled: true,
    sessionSecret: new Secret(SESSION_SECRET),
    ...config,
  })
  const app = createDashboardApp({ ...world.deps, config: parsed })
  const again = new Browser({ ...world, app })
  for (const [k, v] of b.cookies) again.cookies.set(k, v)
  return again
}

describe('a session follows the current config', () => {
  it('ends at once when its token is removed from the config', async () => {
    const b = new Browser(world)
    await b.logInWithToken(ADMIN_TOKEN)
    expect(roleShown(await (await b.request('/dashboard/jobs')).text())).toBe('admin')
    const again = restarted(b, {
      admins: [],
      tokens: [
        { tokenEnv: 'T_NEW', token: new Secret('brand-new-token-0123456789'), login: 'ann', role: 'admin' },
      ],
    })
    const res = await again.request('/dashboard/jobs')
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toContain('/dashboard/login')
    expect(await sessionKeys()).toEqual([])
  })

  it('loses admin at once when its token is made a viewer or its login leaves `admins`', async () => {
    const b = new Browser(world)
    await b.logInWithToken(ADMIN_TOKEN)
    const demoted = restarted(b, {
      tokens: [{ tokenEnv: 'T_ADMIN', token: new Secret(ADMIN_TOKEN), login: 'ann', role: 'viewer' }],
    })
    expect(roleShown(await (await demoted.request('/dashboard/jobs')).text())).toBe('viewer')

    const g = new Browser(world)
    await g.logInAsGiteaUser('ada') // `ada` is in the world's admins
    expect(roleShown(await (await g.request('/dashboard/jobs')).text())).toBe('admin')
    const removed = restarted(g, {
      admins: [],
      tokens: [{ tokenEnv: 'T_VIEWER', token: new Secret(VIEWER_TOKEN), login: 'vic' }],
    })
    expect(roleShown(await (await removed.request('/dashboard/jobs')).text())).toBe('viewer')
  })

  it('ends a session at its absolute lifetime however active it is, and caps its TTL to what is left', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z')
    const sessions = new RedisSessions(world.redis, world.prefix, 3600, 24 * 3600, () => now)
    const s = await sessions.create({ login: 'gil', role: 'viewer', via: 'oauth' })
    // Used every half hour for 23.5 hours: still there, the idle TTL renewed each time...
    for (let h = 0; h < 47; h++) {
      now += 30 * 60_000
      expect(await sessions.get(s.id)).toBeDefined()
    }
    // ...but never past the end of its lifetime (30 minutes left).
    const [key] = await sessionKeys()
    expect(await world.redis.ttl(key!)).toBeLessThanOrEqual(30 * 60)
    now += 30 * 60_000
    expect(await sessions.get(s.id)).toBeUndefined()
    expect(await sessionKeys()).toEqual([])
  })

  it('the viewer token session keeps working while its token is configured', async () => {
    const b = new Browser(world)
    await b.logInWithToken(VIEWER_TOKEN)
    const same = restarted(b, {
      tokens: [{ tokenEnv: 'T_VIEWER', token: new Secret(VIEWER_TOKEN), login: 'vic', role: 'viewer' }],
    })
    const res = await same.request('/dashboard/jobs')
    expect(res.status).toBe(200)
    expect(await res.text()).toMatch(/vic <span class="role">\(viewer\)/)
  })
})
