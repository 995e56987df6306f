import { createHash, randomBytes } from 'node:crypto'
import type { Hono } from 'hono'
import type { DoubleStore } from './store.js'

/** An OAuth2 application registered on the double (Gitea: settings → Applications). */
export interface OAuthAppRecord {
  name: string
  clientId: string
  clientSecret: string
  redirectUris: string[]
}

interface PendingCode {
  clientId: string
  userId: number
  redirectUri: string
  challenge: string | undefined
  method: string
  expires: number
}

const token = (bytes = 24) => randomBytes(bytes).toString('hex')

/**
 * Gitea's OAuth2 provider as the double plays it (docs.gitea.com, "OAuth2 provider"): the
 * authorization code grant with PKCE (`plain`, `S256`) at `/login/oauth/authorize` and
 * `/login/oauth/access_token`. The access token it issues is an API token of the user, so
 * `GET /api/v1/user` answers with it. Codes are single use and live 10 minutes, as Gitea's.
 * The double has no passwords: its authorize page lets whoever opens it pick a user (a local
 * stand-in, never exposed beyond loopback by the sandbox).
 */
export class DoubleOAuth {
  readonly apps = new Map<string, OAuthAppRecord>()
  private readonly codes = new Map<string, PendingCode>()

  register(input: { name: string; redirectUris: string[] }): OAuthAppRecord {
    const app = { ...input, clientId: crypto.randomUUID(), clientSecret: `gto_${token()}` }
    this.apps.set(app.clientId, app)
    return app
  }

  /** Issues a code for `userId` (what the grant page does when a user accepts). */
  issueCode(p: Omit<PendingCode, 'expires'>): string {
    const code = token(16)
    this.codes.set(code, { ...p, expires: Date.now() + 600_000 })
    return code
  }

  /** Takes a code (once): the grant it was issued for, if it is still valid. */
  takeCode(code: string): PendingCode | undefined {
    const p = this.codes.get(code)
    this.codes.delete(code)
    return p && p.expires > Date.now() ? p : undefined
  }
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)

/** The double's `/login/oauth/*` routes. */
export function registerOAuthRoutes(app: Hono, store: DoubleStore, oauth: DoubleOAuth): void {
  const redirectWith = (redirectUri: string, params: Record<string, string | undefined>) => {
    const u = new URL(redirectUri)
    for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v)
    return u.toString()
  }

  /** Checks client and redirect URI: Gitea shows an error page (no redirect) when either is wrong. */
  const checkClient = (
    q: Record<string, string>,
  ): { error: string } | { client: OAuthAppRecord; redirectUri: string } => {
    const client = oauth.apps.get(q.client_id ?? '')
    if (!client) return { error: 'Client ID not registered' }
    const redirectUri = q.redirect_uri ?? ''
    if (!client.redirectUris.includes(redirectUri)) return { error: 'Unregistered Redirect URI' }
    return { client, redirectUri }
  }

  app.get('/login/oauth/authorize', (c) => {
    const q = c.req.query()
    const checked = checkClient(q)
    if ('error' in checked) return c.text(checked.error, 400)
    if (q.response_type !== 'code')
      return c.redirect(
        redirectWith(checked.redirectUri, { error: 'unsupported_response_type', state: q.state }),
      )
    if (q.code_challenge_method && !['plain', 'S256'].includes(q.code_challenge_method))
      return c.redirect(
        redirectWith(checked.redirectUri, {
          error: 'invalid_request',
          error_description: 'unsupported code challenge method',
          state: q.state,
        }),
      )
    const hidden = ['client_id', 'redirect_uri', 'state', 'code_challenge', 'code_challenge_method']
      .map((k) => `<input type="hidden" name="${k}" value="${escapeHtml(q[k] ?? '')}">`)
      .join('')
    const users = [...store.users.values()]
      .map((u) => `<button name="login" value="${escapeHtml(u.login)}">${escapeHtml(u.login)}</button>`)
      .join(' ')
    return c.html(
      `<!doctype html><html lang="en"><head><title>Authorize ${escapeHtml(checked.client.name)}</title></head>` +
        `<body><main><h1>Authorize ${escapeHtml(checked.client.name)}</h1>` +
        `<p>Gitea double: sign in as</p><form method="post" action="/login/oauth/grant">${hidden}${users}</form>` +
        `</main></body></html>`,
    )
  })

  app.post('/login/oauth/grant', async (c) => {
    const f = Object.fromEntries(
      Object.entries(await c.req.parseBody()).map(([k, v]) => [k, typeof v === 'string' ? v : '']),
    )
    const checked = checkClient(f)
    if ('error' in checked) return c.text(checked.error, 400)
    const user = store.userByLogin(f.login ?? '')
    if (!user) return c.text('no such user', 400)
    const code = oauth.issueCode({
      clientId: checked.client.clientId,
      userId: user.id,
      redirectUri: checked.redirectUri,
      challenge: f.code_challenge || undefined,
      method: f.code_challenge_method || 'plain',
    })
    return c.redirect(redirectWith(checked.redirectUri, { code, state: f.state || undefined }), 303)
  })

  app.post('/login/oauth/access_token', async (c) => {
    const type = c.req.header('content-type') ?? ''
    const raw: Record<string, unknown> = type.includes('application/json')
      ? await c.req.json()
      : await c.req.parseBody()
    const f = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, typeof v === 'string' ? v : '']))
    const fail = (error: string, description: string) =>
      c.json({ error, error_description: description }, error === 'invalid_client' ? 401 : 400)
    if (f.grant_type !== 'authorization_code')
      return fail(
        'unsupported_grant_type',
        'Only refresh_token or authorization_code grant type is supported',
      )
    const client = oauth.apps.get(f.client_id ?? '')
    if (!client || client.clientSecret !== f.client_secret)
      return fail('invalid_client', 'invalid client secret')
    const grant = oauth.takeCode(f.code ?? '')
    if (!grant || grant.clientId !== client.clientId)
      return fail('unauthorized_client', 'client is not authorized')
    if (grant.redirectUri !== f.redirect_uri) return fail('unauthorized_client', 'unexpected redirect URI')
    if (grant.challenge !== undefined) {
      const verifier = f.code_verifier ?? ''
      const computed =
        grant.method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier
      if (!verifier || computed !== grant.challenge)
        return fail('unauthorized_client', 'failed PKCE code challenge')
    }
    const access = token(20)
    store.tokens.set(access, grant.userId)
    return c.json({ access_token: access, token_type: 'bearer', expires_in: 3600, refresh_token: token(20) })
  })
}
