import { createHash } from 'node:crypto'
import { z } from 'zod'
import type { Secret } from '../config/secret.js'

/** Who logged in with Gitea: the login and whether they are a site admin (`is_admin`). */
export interface GiteaIdentity {
  login: string
  isAdmin: boolean
}

/**
 * Login with Gitea (its OAuth2 provider, docs.gitea.com "OAuth2 provider"): the authorization
 * code grant with `state` and PKCE (S256), then `GET /api/v1/user` with the access token. The
 * token is used for that one call and never kept.
 */
export interface GiteaOAuth {
  /** Where the browser is sent to log in. */
  authorizeUrl(p: { state: string; codeVerifier: string; redirectUri: string }): string
  /** Trades the code for an access token and reads who it belongs to; throws with Gitea's reason. */
  identify(p: { code: string; codeVerifier: string; redirectUri: string }): Promise<GiteaIdentity>
}

const TokenResponse = z.object({ access_token: z.string().min(1), token_type: z.string().optional() })
const TokenError = z.object({ error: z.string(), error_description: z.string().optional() })
// Only the fields read (Gitea's swagger `User`).
const ApiUser = z.object({ login: z.string().min(1), is_admin: z.boolean().optional() })

/** The PKCE S256 challenge of a verifier (RFC 7636). */
export function codeChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url')
}

/**
 * The OAuth2 client against a Gitea at `giteaUrl` (the URL browsers reach it at, which is also
 * the one the server calls).
 *
 * @example
 *   const oauth = giteaOAuth({ giteaUrl: 'https://gitea.example.com', clientId, clientSecret })
 *   redirect(oauth.authorizeUrl({ state, codeVerifier, redirectUri }))
 */
export function giteaOAuth(opts: {
  giteaUrl: string
  clientId: string
  clientSecret: Secret
  fetch?: typeof fetch
}): GiteaOAuth {
  const base = opts.giteaUrl.replace(/\/+$/, '')
  const call = opts.fetch ?? fetch
  return {
    authorizeUrl({ state, codeVerifier, redirectUri }) {
      const q = new URLSearchParams({
        client_id: opts.clientId,
        redirect_uri: redirectUri,
        response_type: 'code',
        scope: 'read:user',
        state,
        code_challenge: codeChallenge(codeVerifier),
        code_challenge_method: 'S256',
      })
      return `${base}/login/oauth/authorize?${q}`
    },
    async identify({ code, codeVerifier, redirectUri }) {
      const res = await call(`${base}/login/oauth/access_token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: opts.clientId,
          client_secret: opts.clientSecret.reveal(),
          code,
          code_verifier: codeVerifier,
          redirect_uri: redirectUri,
        }),
        signal: AbortSignal.timeout(10_000),
      })
      const body: unknown = await res.json().catch(() => undefined)
      if (!res.ok) {
        const e = TokenError.safeParse(body)
        throw new Error(
          `Gitea refused the login code (${res.status}${e.success ? `: ${e.data.error}${e.data.error_description ? `, ${e.data.error_description}` : ''}` : ''})`,
        )
      }
      const token = TokenResponse.safeParse(body)
      if (!token.success) throw new Error('Gitea answered the code exchange without an access token')
      const me = await call(`${base}/api/v1/user`, {
        headers: { authorization: `Bearer ${token.data.access_token}`, accept: 'application/json' },
        signal: AbortSignal.timeout(10_000),
      })
      if (!me.ok) throw new Error(`Gitea refused GET /api/v1/user with the new token (${me.status})`)
      const user = ApiUser.safeParse(await me.json().catch(() => undefined))
      if (!user.success) throw new Error('Gitea answered GET /api/v1/user without a login')
      return { login: user.data.login, isAdmin: user.data.is_admin ?? false }
    },
  }
}
