import { isIP } from 'node:net'
import { z } from 'zod'
import { resolveChecked } from '../ssrf.js'
import { toolsConfigOf } from '../tools-config.js'
import { ToolError, type ToolContext } from '../tool.js'
import type { CheckedRepo } from './git-repo.js'

/**
 * A remote argument: the name of a remote configured in the checkout, or an http(s) URL. Never
 * starting with "-" (it would be read as an option), no whitespace or control characters. Which
 * of the two it is, and whether it is allowed, is decided by `resolveRemote` at run time.
 */
export const GitRemoteArg = z
  .string()
  .min(1)
  .max(2048)
  .refine((r) => !r.startsWith('-'), 'must not start with "-"')
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  .refine((r) => !/[\s\x00-\x1f\x7f]/.test(r), 'must not contain whitespace or control characters')

// A deliberately narrow URL grammar, so git (curl) and this check cannot read a different host out
// of the same string: no backslashes, no percent-escapes or odd characters in the host, no
// userinfo tricks beyond `user[:password]@`.
const HTTP_URL =
  /^(https?):\/\/(?:([A-Za-z0-9._~!$&'()*+,;=%-]+(?::[A-Za-z0-9._~!$&'()*+,;=%-]*)?)@)?([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?(\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?$/

/** The parts of an http(s) remote URL that the network policy looks at. */
export interface RemoteUrl {
  protocol: 'http' | 'https'
  host: string
  port: number
  hasCredentials: boolean
}

/**
 * Parses a remote URL under the narrow grammar, or explains why it is refused: any transport but
 * http and https (`file://`, `ext::`, `ssh://`, `host:path`, a local path) is.
 */
export function parseRemoteUrl(url: string): RemoteUrl {
  const m = HTTP_URL.exec(url)
  if (!m) {
    if (/^[A-Za-z][A-Za-z0-9+.-]*::/.test(url))
      throw new ToolError(`refused: remote helper transport "${url.split('::')[0]}::" is not allowed`)
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]
    if (scheme && !/^https?$/i.test(scheme))
      throw new ToolError(`refused: only http and https remote URLs are allowed, got ${scheme}://`)
    throw new ToolError(
      `refused: ${JSON.stringify(url)} is not an http(s) URL git tools may use (local paths, ` +
        'file://, ssh and host:path remotes are not allowed)',
    )
  }
  const protocol = (m[1] as string).toLowerCase() as 'http' | 'https'
  const port = m[4] ? Number(m[4]) : protocol === 'https' ? 443 : 80
  if (port < 1 || port > 65535) throw new ToolError(`refused: bad port in ${url}`)
  return { protocol, host: (m[3] as string).toLowerCase(), port, hasCredentials: m[2] !== undefined }
}

/** What a git command needs to reach a remote: the argument to pass, and the config that pins it. */
export interface ResolvedRemote {
  /** The remote's name or URL, as git gets it. */
  arg: string
  /** The URLs that were checked (for messages). */
  urls: string[]
  /**
   * `http.curloptResolve` entries: each checked host is pinned to the address that was checked;
   * for the job's own origin, also its `http.<url>.extraHeader` (the bot's token: pass this only
   * to git, as command-line config through the environment; never show it).
   */
  config: [string, string][]
}

/** `http(s)://host:port/path` without `.git` or trailing slashes, or undefined for a bad URL. */
function sameRepoUrl(url: string): string | undefined {
  try {
    const u = new URL(url)
    if (u.username || u.password) return undefined
    return `${u.protocol}//${u.host.toLowerCase()}${u.pathname.replace(/\/+$/, '').replace(/\.git$/, '')}`
  } catch {
    return undefined
  }
}

/** Whether a remote URL is the job's own origin (the same repository on the same Gitea). */
function isOrigin(url: string, ctx: ToolContext): boolean {
  const origin = ctx.gitOrigin && sameRepoUrl(ctx.gitOrigin.url)
  return origin !== undefined && sameRepoUrl(url) === origin
}

/**
 * Checks one URL against the network policy of `http_get` (`toolSettings.http.allowHosts`; no
 * loopback, private, link-local... addresses otherwise) and returns the pin for git: curl connects
 * to the checked address, so DNS rebinding cannot swap it between the check and the connect.
 */
async function checkUrl(url: string, allowHosts: readonly string[]): Promise<[string, string][]> {
  const u = parseRemoteUrl(url)
  const bare = u.host.replace(/^\[|\]$/g, '')
  const pinned = await resolveChecked(bare, allowHosts)
  if (isIP(bare)) return []
  const address = pinned.family === 6 ? `[${pinned.address}]` : pinned.address
  return [['http.curloptResolve', `${bare}:${u.port}:${address}`]]
}

/**
 * Resolves a remote argument for fetching or pushing: either the name of a remote configured in
 * the checkout, whose URLs (push URLs for a push) must each pass the network policy, or an http(s)
 * URL without credentials that passes it. Everything else is refused with the reason.
 *
 * @example
 *   const remote = await resolveRemote(repo, 'origin', 'fetch', ctx)
 *   await git(repo, ['pull', '--ff-only', remote.arg], ctx, { config: remote.config })
 */
export async function resolveRemote(
  repo: CheckedRepo,
  remote: string,
  direction: 'fetch' | 'push',
  ctx: ToolContext,
): Promise<ResolvedRemote> {
  const allowHosts = toolsConfigOf(ctx).http.allowHosts
  const configured = repo.remotes.get(remote)
  let urls: string[]
  if (configured) {
    urls = direction === 'push' && configured.pushUrls.length > 0 ? configured.pushUrls : configured.urls
    if (urls.length === 0) throw new ToolError(`refused: remote "${remote}" has no URL configured`)
  } else if (/[:/\\@]/.test(remote) || remote.startsWith('.')) {
    // Looks like a URL, a path or host:path (`.` is the repository itself): only http(s) URLs pass.
    const u = parseRemoteUrl(remote)
    if (u.hasCredentials) throw new ToolError('refused: credentials in the remote URL')
    urls = [remote]
  } else {
    const names = [...repo.remotes.keys()]
    throw new ToolError(
      `refused: "${remote}" is not a remote configured in this repository` +
        (names.length > 0 ? ` (configured: ${names.join(', ')})` : ' (none is configured)') +
        ', nor an http(s) URL',
    )
  }
  const config: [string, string][] = []
  // Only when every URL of the remote is the job's own origin does git get the bot's token.
  const own = urls.every((url) => isOrigin(url, ctx))
  for (const url of urls) {
    try {
      // The job's origin is the Gitea the bot talks to: reachable even on a private address.
      const hosts = own ? [...allowHosts, parseRemoteUrl(url).host.replace(/^\[|\]$/g, '')] : allowHosts
      config.push(...(await checkUrl(url, hosts)))
    } catch (err) {
      if (!(err instanceof ToolError) || !configured) throw err
      throw new ToolError(`remote "${remote}" (${redactUrl(url)}): ${err.message}`, err.transient, {
        cause: err,
      })
    }
  }
  const authorization = own ? ctx.gitOrigin?.authorization?.() : undefined
  // Scoped to the URL too: git sends the header only to requests for this repository.
  if (authorization)
    for (const url of new Set(urls))
      config.push([`http.${url}.extraHeader`, `Authorization: ${authorization}`])
  return { arg: remote, urls: urls.map(redactUrl), config }
}

/** A URL with its password (or token) replaced by `***`, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/@]*?:)[^/@]*@/, '$1***@')
}
