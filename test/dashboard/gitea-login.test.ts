// Login with Gitea against the Gitea double's OAuth2 provider: authorization code with state and
// PKCE, then GET /api/v1/user (contract-checked against Gitea's swagger).
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Secret } from '../../src/config/secret.js'
import { giteaOAuth } from '../../src/dashboard/gitea-oauth.js'
import { GiteaDouble } from '../../src/gitea/double/index.js'
import { Browser, dashboardWorld, PUBLIC_URL, type DashboardWorld } from './dashboard-world.js'

const GITEA = 'http://gitea.test'
const CALLBACK = `${PUBLIC_URL}/dashboard/oauth/callback`

let double: GiteaDouble
let world: DashboardWorld
let clientSecret: string
beforeEach(async () => {
  double = new GiteaDouble({ baseUrl: GITEA })
  double.createUser({ login: 'wren' })
  double.createUser({ login: 'root', isAdmin: true })
  double.createUser({ login: 'ada' })
  const app = double.createOAuthApp({ name: 'uni-wizard dashboard', redirectUris: [CALLBACK] })
  clientSecret = app.clientSecret
  world = await dashboardWorld({
    oauth: giteaOAuth({
      giteaUrl: GITEA,
      clientId: app.clientId,
      clientSecret: new Secret(app.clientSecret),
      fetch: (input, init) => double.fetch(new Request(input, init)),
    }),
  })
})
afterEach(async () => {
  await world.close()
  double.close()
  double.assertContract()
})

/** The browser's trip to Gitea: the authorize page, then "sign in as" `login`; answers the callback URL. */
async function throughGitea(authorizeUrl: string, login: string): Promise<string> {
  const page = await double.fetch(new Request(authorizeUrl))
  expect(page.status).toBe(200)
  const html = await page.text()
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
  expect(grant.status).toBe(303)
  return grant.headers.get('location')!
}

async function startLogin(b: Browser, next = '/dashboard/jobs'): Promise<string> {
  const res = await b.request(`/dashboard/login/gitea?next=${encodeURIComponent(next)}`)
  expect(res.status).toBe(302)
  return res.headers.get('location')!
}

describe('Login with Gitea', () => {
  it('sends the browser to Gitea with state and an S256 PKCE challenge, and logs in on return', async () => {
    const b = new Browser(world)
    const authorize = new URL(await startLogin(b))
    expect(authorize.origin + authorize.pathname).toBe(`${GITEA}/login/oauth/authorize`)
    expect(authorize.searchParams.get('redirect_uri')).toBe(CALLBACK)
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256')
    expect(authorize.searchParams.get('state')).toMatch(/^[\w-]{40,}$/)
    const callback = await throughGitea(authorize.toString(), 'wren')
    const back = await b.request(callback.replace(PUBLIC_URL, ''))
    expect(back.status).toBe(303)
    expect(back.headers.get('location')).toBe('/dashboard/jobs')
    const page = await (await b.request('/dashboard/jobs')).text()
    expect(page).toMatch(/wren <span class="role">\(viewer\)<\/span>/)
    // The access token and client secret are used, never shown or kept.
    expect(page).not.toContain(clientSecret)
    // The round trip's state is used up.
    expect(await world.redis.keys(`${world.prefix}:dashboard:oauth:*`)).toEqual([])
  })

  it.each([
    ['a Gitea site admin', 'root', 'admin'],
    ['a configured admin login', 'ada', 'admin'],
  ])('makes %s an admin', async (_, login, role) => {
    const b = new Browser(world)
    const callback = await throughGitea(await startLogin(b), login)
    await b.request(callback.replace(PUBLIC_URL, ''))
    expect(await (await b.request('/dashboard/jobs')).text()).toContain(
      `${login} <span class="role">(${role})`,
    )
  })

  it('rejects a callback whose state this browser did not start (login CSRF)', async () => {
    const attacker = new Browser(world)
    const attackerCallback = await throughGitea(await startLogin(attacker), 'root')
    const victim = new Browser(world)
    await startLogin(victim)
    const res = await victim.request(attackerCallback.replace(PUBLIC_URL, ''))
    expect(res.status).toBe(400)
    expect(await res.text()).toContain('state mismatch')
    expect(victim.cookies.has('uw_dashboard')).toBe(false)
  })

  it('rejects a callback without a state cookie, and a replayed one', async () => {
    const b = new Browser(world)
    const callback = (await throughGitea(await startLogin(b), 'wren')).replace(PUBLIC_URL, '')
    const stranger = await new Browser(world).request(callback)
    expect(stranger.status).toBe(400)
    expect((await b.request(callback)).status).toBe(303)
    // The same browser again: the state was used up.
    const replay = new Browser(world)
    replay.cookies.set('uw_dashboard_oauth', b.cookies.get('uw_dashboard_oauth') ?? 'gone')
    expect((await replay.request(callback)).status).toBe(400)
  })

  it('says so when Gitea answers with an error (the user declined)', async () => {
    const b = new Browser(world)
    const state = new URL(await startLogin(b)).searchParams.get('state')!
    const res = await b.request(`/dashboard/oauth/callback?error=access_denied&state=${state}`)
    expect(res.status).toBe(400)
    expect(await res.text()).toContain('Gitea did not log you in (access_denied)')
  })
})

describe('the Gitea double’s OAuth2 provider', () => {
  it('refuses a code exchanged without its PKCE verifier, with a wrong secret, or twice', async () => {
    const app = double.createOAuthApp({ name: 'x', redirectUris: ['http://x.test/cb'] })
    const code = () =>
      double.oauth.issueCode({
        clientId: app.clientId,
        userId: double.store.userByLogin('wren')!.id,
        redirectUri: 'http://x.test/cb',
        challenge: 'abc',
        method: 'plain',
      })
    const exchange = (fields: Record<string, string>) =>
      double.fetch(
        new Request(`${GITEA}/login/oauth/access_token`, {
          method: 'POST',
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            client_id: app.clientId,
            client_secret: app.clientSecret,
            redirect_uri: 'http://x.test/cb',
            ...fields,
          }),
        }),
      )
    const noVerifier = await exchange({ code: code() })
    expect(noVerifier.status).toBe(400)
    expect(await noVerifier.json()).toMatchObject({ error: 'unauthorized_client' })
    expect((await exchange({ code: code(), code_verifier: 'abc', client_secret: 'wrong' })).status).toBe(401)
    const once = code()
    const ok = await exchange({ code: once, code_verifier: 'abc' })
    expect(ok.status).toBe(200)
    const { access_token } = (await ok.json()) as { access_token: string }
    const me = await double.fetch(
      new Request(`${GITEA}/api/v1/user`, { headers: { authorization: `Bearer ${access_token}` } }),
    )
    expect(await me.json()).toMatchObject({ login: 'wren', is_admin: false })
    expect((await exchange({ code: once, code_verifier: 'abc' })).status).toBe(400)
  })

  it('shows an error page, not a redirect, for an unknown client or redirect URI', async () => {
    const res = await double.fetch(
      new Request(
        `${GITEA}/login/oauth/authorize?client_id=nope&redirect_uri=http://evil.test/&response_type=code`,
      ),
    )
    expect(res.status).toBe(400)
  })
})
