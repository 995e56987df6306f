// Access control of the dashboard over the real Redis: sessions, roles, CSRF, security headers.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { requireAdmin } from '../../src/dashboard/access.js'
import type { DashboardPage } from '../../src/dashboard/dashboard-env.js'
import { render } from '../../src/dashboard/layout.js'
import {
  ADMIN_TOKEN,
  Browser,
  dashboardWorld,
  SESSION_SECRET,
  VIEWER_TOKEN,
  type DashboardWorld,
} from './dashboard-world.js'

// A page with an admin-only form, to exercise the guards the real pages share.
const probe: DashboardPage = {
  nav: { label: 'Probe', path: '/probe' },
  register(app) {
    app.get('/probe', (c) => render(c, { title: 'Probe' }, `hello ${c.get('user')?.login}`))
    app.post('/probe/admin', requireAdmin(), (c) => c.text(`done by ${c.get('user')?.login}`))
    app.post('/probe/any', (c) => c.text(`done by ${c.get('user')?.login}`))
  },
}

let world: DashboardWorld
beforeEach(async () => {
  world = await dashboardWorld({ pages: [probe] })
})
afterEach(async () => {
  await world.close()
})

describe('dashboard access', () => {
  it('sends a request without a session to the login page, remembering where it was going', async () => {
    const res = await new Browser(world).request('/dashboard/probe?x=1')
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe(
      `/dashboard/login?next=${encodeURIComponent('/dashboard/probe?x=1')}`,
    )
  })

  it('answers an unsafe request without a session with 401 and does nothing', async () => {
    const res = await new Browser(world).post('/dashboard/probe/any', { _csrf: 'x' })
    expect(res.status).toBe(401)
  })

  it('logs in with a configured token: an opaque, signed, HttpOnly, SameSite=Lax, Secure cookie', async () => {
    const b = new Browser(world)
    const res = await b.logInWithToken(VIEWER_TOKEN)
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/dashboard/')
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('uw_dashboard='))
    expect(cookie).toMatch(/HttpOnly/)
    expect(cookie).toMatch(/SameSite=Lax/)
    expect(cookie).toMatch(/Secure/)
    expect(cookie).toMatch(/Path=\/dashboard/)
    // The value says nothing about who it is: the session lives in Redis.
    expect(cookie).not.toContain('vic')
    const page = await (await b.request('/dashboard/probe')).text()
    expect(page).toContain('hello vic')
  })

  it('refuses a wrong token and a login form without its form token', async () => {
    const b = new Browser(world)
    const wrong = await b.logInWithToken('not-a-token-at-all-000000')
    expect(wrong.status).toBe(403)
    expect(await wrong.text()).toContain('not a dashboard token')
    const noForm = await new Browser(world).post('/dashboard/login/token', { token: VIEWER_TOKEN })
    expect(noForm.status).toBe(403)
    expect(noForm.headers.getSetCookie().some((c) => c.startsWith('uw_dashboard='))).toBe(false)
  })

  it('a session cookie with a forged signature is no session', async () => {
    const b = new Browser(world)
    await b.logInWithToken(VIEWER_TOKEN)
    const value = b.cookies.get('uw_dashboard')!
    b.cookies.set('uw_dashboard', value.replace(/\.[^.]+$/, '.AAAA'))
    expect((await b.request('/dashboard/probe')).status).toBe(303)
  })

  it('lets admins and refuses viewers an admin action, with a reason', async () => {
    const viewer = new Browser(world)
    await viewer.logInWithToken(VIEWER_TOKEN)
    const refused = await viewer.post('/dashboard/probe/admin', {
      _csrf: await viewer.csrfToken('/dashboard/probe'),
    })
    expect(refused.status).toBe(403)
    expect(await refused.text()).toMatch(/needs a dashboard admin/)

    const admin = new Browser(world)
    await admin.logInWithToken(ADMIN_TOKEN)
    const done = await admin.post('/dashboard/probe/admin', {
      _csrf: await admin.csrfToken('/dashboard/probe'),
    })
    expect(done.status).toBe(200)
    expect(await done.text()).toBe('done by ann')
  })

  it('refuses a form without the session CSRF token, or with another session’s', async () => {
    const b = new Browser(world)
    await b.logInWithToken(VIEWER_TOKEN)
    const other = new Browser(world)
    await other.logInWithToken(VIEWER_TOKEN)
    const none = await b.post('/dashboard/probe/any', {})
    expect(none.status).toBe(403)
    expect(await none.text()).toMatch(/CSRF token/)
    const foreign = await b.post('/dashboard/probe/any', { _csrf: await other.csrfToken('/dashboard/probe') })
    expect(foreign.status).toBe(403)
    const ok = await b.post('/dashboard/probe/any', { _csrf: await b.csrfToken('/dashboard/probe') })
    expect(await ok.text()).toBe('done by vic')
  })

  it('refuses a form from a foreign Origin even with the right token', async () => {
    const b = new Browser(world)
    await b.logInWithToken(VIEWER_TOKEN)
    const csrf = await b.csrfToken('/dashboard/probe')
    const res = await b.post('/dashboard/probe/any', { _csrf: csrf }, { origin: 'https://evil.example' })
    expect(res.status).toBe(403)
    expect(await res.text()).toMatch(/not sent from https:\/\/bot\.example\.test/)
    const noOrigin = await b.post('/dashboard/probe/any', { _csrf: csrf }, { origin: null })
    expect(noOrigin.status).toBe(403)
  })

  it('logs out: the session is gone from Redis, the old cookie no longer works', async () => {
    const b = new Browser(world)
    await b.logInWithToken(ADMIN_TOKEN)
    const cookie = b.cookies.get('uw_dashboard')!
    const out = await b.post('/dashboard/logout', { _csrf: await b.csrfToken('/dashboard/probe') })
    expect(out.status).toBe(303)
    expect(await world.redis.keys(`${world.prefix}:dashboard:session:*`)).toEqual([])
    const replay = new Browser(world)
    replay.cookies.set('uw_dashboard', cookie)
    expect((await replay.request('/dashboard/probe')).status).toBe(303)
  })

  it('sends strict security headers on every page, the login page included', async () => {
    for (const path of ['/dashboard/login', '/dashboard/probe']) {
      const b = new Browser(world)
      if (path !== '/dashboard/login') await b.logInWithToken(VIEWER_TOKEN)
      const res = await b.request(path)
      const csp = res.headers.get('content-security-policy') ?? ''
      expect(csp).toContain("default-src 'self'")
      expect(csp).toContain("script-src 'self'")
      expect(csp).toContain("frame-ancestors 'none'")
      expect(csp).not.toContain('unsafe-inline')
      expect(res.headers.get('x-content-type-options')).toBe('nosniff')
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN')
      expect(res.headers.get('cache-control')).toBe('no-store')
    }
  })

  it('never shows a configured secret in a page', async () => {
    const b = new Browser(world)
    const pages = [await (await b.request('/dashboard/login')).text()]
    await b.logInWithToken(ADMIN_TOKEN)
    pages.push(await (await b.request('/dashboard/probe')).text())
    pages.push(await (await b.request('/dashboard/nowhere')).text())
    for (const html of pages)
      for (const secret of [SESSION_SECRET, VIEWER_TOKEN, ADMIN_TOKEN]) expect(html).not.toContain(secret)
  })

  it('does not redirect to another site after login', async () => {
    const b = new Browser(world)
    const page = await (await b.request('/dashboard/login?next=//evil.example/x')).text()
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? ''
    const res = await b.post('/dashboard/login/token', {
      _csrf: csrf,
      token: VIEWER_TOKEN,
      next: 'https://evil.example/',
    })
    expect(res.headers.get('location')).toBe('/dashboard/')
  })
})
