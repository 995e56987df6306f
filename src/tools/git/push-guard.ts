import { viaPort } from '../gitea/gitea-args.js'
import type { RepoRef } from '../gitea/gitea-tools-port.js'
import { ToolError, type ToolContext } from '../tool.js'
import { assertUnderPrefix } from './branch-prefix.js'
import { parseRemoteUrl, redactUrl, type ResolvedRemote } from './git-remote.js'
import { type CheckedRepo, git } from './git-repo.js'

/**
 * Where a push of `remote` goes, each as the argument `git ls-remote` gets: the remote's name when
 * it has one URL and no separate push URL (its credentials, if any, stay in the config), else each
 * push URL itself. A push URL holding credentials is refused rather than put on a command line.
 */
function pushDestinations(repo: CheckedRepo, remote: string): { arg: string; url: string }[] {
  const configured = repo.remotes.get(remote)
  if (!configured) return [{ arg: remote, url: remote }]
  const urls = configured.pushUrls.length > 0 ? configured.pushUrls : configured.urls
  if (configured.pushUrls.length === 0 && urls.length === 1) return [{ arg: remote, url: urls[0] as string }]
  return urls.map((url) => {
    if (parseRemoteUrl(url).hasCredentials)
      throw new ToolError(
        `refused: remote "${remote}" pushes to ${redactUrl(url)}, whose default branch cannot be checked ` +
          'without putting its credentials on a command line',
      )
    return { arg: url, url }
  })
}

/** The branch the remote's HEAD names, or whether it has no branch at all, read with `git ls-remote`. */
async function remoteHead(
  repo: CheckedRepo,
  arg: string,
  pins: ResolvedRemote['config'],
  ctx: ToolContext,
): Promise<{ defaultBranch: string | undefined; empty: boolean }> {
  const out = await git(repo, ['ls-remote', '--symref', arg, 'HEAD'], ctx, { config: pins })
  const m = /^ref: refs\/heads\/(\S+)\tHEAD$/m.exec(out)
  if (m) return { defaultBranch: m[1], empty: false }
  // An empty repository, or a HEAD naming a branch that does not exist, is not advertised.
  const heads = await git(repo, ['ls-remote', '--heads', arg], ctx, { config: pins })
  return { defaultBranch: undefined, empty: heads.trim() === '' }
}

/** `http(s)://host[:port]/path` without credentials, `.git` or trailing slashes, for comparing URLs. */
function normalUrl(url: string): string | undefined {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host.toLowerCase()}${u.pathname.replace(/\/+$/, '').replace(/\.git$/, '')}`
  } catch {
    return undefined
  }
}

/**
 * The Gitea repository a push URL is, when the context's Gitea serves it: the last two path
 * segments name it, and its clone or web URL must be the push URL. A URL Gitea does not know (404)
 * is some other server's, and has no Gitea facts.
 */
async function giteaFacts(
  url: string,
  branch: string,
  ctx: ToolContext,
): Promise<{ defaultBranch: string; protected: boolean; empty: boolean } | undefined> {
  const gitea = ctx.gitea
  const wanted = normalUrl(url)
  if (!gitea || !wanted) return undefined
  const parts = wanted.split('/').slice(3)
  if (parts.length < 2) return undefined
  const ref: RepoRef = { owner: parts[parts.length - 2] as string, name: parts[parts.length - 1] as string }
  let repository
  try {
    repository = await gitea.getRepository(ref)
  } catch (err) {
    if ((err as { status?: unknown }).status === 404) return undefined
    return viaPort('getRepository', () => Promise.reject(err))
  }
  if (![repository.cloneUrl, repository.htmlUrl].some((u) => normalUrl(u) === wanted)) return undefined
  const found = await viaPort('getBranch', () => gitea.getBranch(ref, branch))
  return {
    defaultBranch: repository.defaultBranch,
    protected: found?.protected === true,
    empty: repository.empty,
  }
}

/**
 * Refuses a push `git_push` must never make, before anything is sent: a branch outside the
 * house's prefix (`toolSettings.git.branchPrefix`), the remote's default branch (its HEAD, read
 * with `git ls-remote --symref`, and Gitea's `default_branch` when the remote is a repository of
 * the context's Gitea), a branch Gitea protects, and any push to a remote whose default branch
 * cannot be told (an empty repository would take the first branch pushed as its default).
 *
 * @example
 *   await assertPushAllowed(repo, 'origin', pushRemote, 'uw/bezalel/fix', ctx)
 */
export async function assertPushAllowed(
  repo: CheckedRepo,
  remote: string,
  pushRemote: ResolvedRemote,
  branch: string,
  ctx: ToolContext,
): Promise<void> {
  assertUnderPrefix(branch, ctx)
  for (const dest of pushDestinations(repo, remote)) {
    const shown = dest.arg === remote ? `"${remote}"` : redactUrl(dest.url)
    const head = await remoteHead(repo, dest.arg, pushRemote.config, ctx)
    const facts = await giteaFacts(dest.url, branch, ctx)
    const defaults = [head.defaultBranch, facts?.defaultBranch].filter((b) => b !== undefined)
    // Compared ignoring case: on a server whose file system folds case, `Main` would update `main`.
    if (defaults.some((d) => d.toLowerCase() === branch.toLowerCase()))
      throw new ToolError(
        `refused: "${branch}" is the default branch of remote ${shown}; git_push never pushes to it`,
      )
    if (facts?.protected) throw new ToolError(`refused: "${branch}" is a protected branch of remote ${shown}`)
    if (head.empty || facts?.empty)
      throw new ToolError(
        `refused: remote ${shown} has no branch yet, so the first branch pushed would become its default branch`,
      )
    if (defaults.length === 0)
      throw new ToolError(
        `refused: cannot tell the default branch of remote ${shown} (its HEAD is not advertised)`,
      )
  }
}
