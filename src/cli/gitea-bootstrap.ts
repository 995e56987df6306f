// Two plain HTTP calls `serve` needs before the Gitea port (src/gitea/port.ts) exists.
// When the port lands, replace fetchBotLogin with `port.getCurrentUser()` and probeGitea with
// a port call; nothing else depends on this file.

async function giteaGet(url: string, token: string | undefined, path: string): Promise<Response> {
  const res = await fetch(`${url.replace(/\/$/, '')}/api/v1${path}`, {
    headers: { accept: 'application/json', ...(token ? { authorization: `token ${token}` } : {}) },
    signal: AbortSignal.timeout(5000),
  })
  if (!res.ok) throw new Error(`GET /api/v1${path} answered ${res.status}`)
  return res
}

/**
 * The login of the token's user (`GET /api/v1/user`): the bot's own login.
 *
 * @example
 *   const login = await fetchBotLogin('https://gitea.example.com', process.env.GITEA_TOKEN)
 */
export async function fetchBotLogin(url: string, token: string | undefined): Promise<string> {
  const body = (await (await giteaGet(url, token, '/user')).json()) as { login?: unknown }
  if (typeof body.login !== 'string' || !body.login)
    throw new Error('GET /api/v1/user returned no login; check GITEA_TOKEN')
  return body.login
}

/**
 * Resolves when Gitea answers `GET /api/v1/version`; throws with the reason otherwise.
 *
 * @example
 *   await probeGitea('https://gitea.example.com', token)
 */
export async function probeGitea(url: string, token: string | undefined): Promise<void> {
  await giteaGet(url, token, '/version')
}
