// Issue 16 (F2, F3): what one client can make the dashboard hold: request bodies, `next`, live-update streams.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MAX_FORM_BYTES } from '../../src/dashboard/create-dashboard-app.js'
import { MAX_NEXT_CHARS } from '../../src/dashboard/login-routes.js'
import { Browser, dashboardWorld, ORIGIN, PUBLIC_URL, type DashboardWorld } from './dashboard-world.js'

let world: DashboardWorld
beforeEach(async () => {
  world = await dashboardWorld()
})
afterEach(async () => {
  await world.close()
})

describe('dashboard request bodies (F2)', () => {
  it('refuses an unauthenticated POST body above the limit with 413, without echoing it', async () => {
    const big = `/dashboard/${'a'.repeat(12 * 1024 * 1024)}`
    const res = await world.app.request(`${PUBLIC_URL}/dashboard/login/token`, {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: 'x', _csrf: 'y', next: big }),
    })
    expect(res.status).toBe(413)
    const text = await res.text()
    expect(text).toContain(`at most ${MAX_FORM_BYTES} bytes`)
    expect(text.length).toBeLessThan(1000)
  })

  it('refuses a chunked body (no Content-Length) above the limit too', async () => {
    const chunk = new TextEncoder().encode('a'.repeat(16 * 1024))
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      pull(ctrl) {
        if (sent++ < 100) ctrl.enqueue(chunk)
        else ctrl.close()
      },
    })
    const res = await world.app.request(`${PUBLIC_URL}/dashboard/login/token`, {
      method: 'POST',
      headers: {
        origin: ORIGIN,
        'content-type': 'application/x-www-form-urlencoded',
        'transfer-encoding': 'chunked',
      },
      body,
      duplex: 'half',
    } as RequestInit)
    expect(res.status).toBe(413)
    // It stopped reading soon after the limit, not at the end of the 1.6 MB body.
    expect(sent).toBeLessThan(20)
  })

  it('does not carry a `next` longer than the cap into the login page', async () => {
    const long = `/dashboard/${'b'.repeat(3000)}`
    expect(long.length).toBeGreaterThan(MAX_NEXT_CHARS)
    const page = await (await new Browser(world).request(`/dashboard/login?next=${long}`)).text()
    expect(page).not.toContain('bbbbbbbbbb')
    expect(page).toContain('name="next" value="/dashboard/"')
    const short = `/dashboard/${'b'.repeat(100)}`
    const ok = await (await new Browser(world).request(`/dashboard/login?next=${short}`)).text()
    expect(ok).toContain(`name="next" value="${short}"`)
  })
})
