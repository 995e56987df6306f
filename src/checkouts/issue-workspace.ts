import { stat } from 'node:fs/promises'
import path from 'node:path'
import { checkRepoConfig, parseConfigList } from '../tools/git/git-config-policy.js'
import { CheckoutError } from './checkout-error.js'
import { checkoutEnv, checkoutGit } from './checkout-git.js'
import { checkoutDirName, readMeta } from './checkout-dirs.js'
import type { MirrorGit } from './mirror.js'

/** The issue and house an issue workspace belongs to (with the repository). */
export interface WorkspaceKey {
  issue: number
  house: string
}

/**
 * The directory name of an issue workspace: one per repository, issue (or pull request) and house.
 *
 * @example
 *   workspaceDirName('acme/api', { issue: 4, house: 'bezalel' }) // 'acme-api-4-bezalel-<12 hex>'
 */
export function workspaceDirName(repoKey: string, ws: WorkspaceKey): string {
  return checkoutDirName(`${repoKey}#${ws.issue}@${ws.house}`)
}

/** The work an issue workspace holds: what a re-sync would lose. */
export interface WorkspaceWork {
  /** The commit it was last synced to (where the work started). */
  syncedCommit: string
  /** HEAD now: the commit the next job starts from. */
  head: string
  /** What the work is, for messages: "uncommitted changes", "commits since 0123456789ab". */
  what: string
}

/**
 * What an issue workspace holds beyond the commit it was last synced to: uncommitted changes
 * (untracked files included), a HEAD that moved, or commits on local branches that no remote
 * branch has. Undefined when it is absent or clean, so it may be brought to a job's target.
 * Its own config is checked to be data only before git reads its work tree.
 */
export async function workspaceWork(dir: string, g: MirrorGit): Promise<WorkspaceWork | undefined> {
  const synced = (await readMeta(dir))?.workspace?.syncedCommit
  if (!synced) return undefined
  const isRepo = await stat(path.join(dir, '.git')).then(
    (s) => s.isDirectory(),
    () => false,
  )
  if (!isRepo) return undefined
  const env = checkoutEnv(g.toolConfig, {})
  const call = (what: string) => ({ what: `${what} of the issue workspace of ${g.repoKey}`, ...g })
  const listed = await checkoutGit(
    g.run,
    ['-C', dir, 'config', '--local', '--list', '--show-scope', '--no-includes', '--null'],
    env,
    call('read the config'),
  )
  try {
    checkRepoConfig(parseConfigList(listed))
  } catch (err) {
    throw new CheckoutError(
      'git',
      `the issue workspace of ${g.repoKey} cannot be used: ${err instanceof Error ? err.message : String(err)}`,
    )
  }
  const [status, head, local] = await Promise.all([
    checkoutGit(
      g.run,
      ['-C', dir, 'status', '--porcelain=v1', '--untracked-files=all', '--no-renames'],
      env,
      call('read the status'),
    ),
    checkoutGit(g.run, ['-C', dir, 'rev-parse', '--verify', 'HEAD'], env, call('read HEAD')),
    checkoutGit(
      g.run,
      ['-C', dir, 'rev-list', '-n', '1', 'HEAD', '--branches', '--not', '--remotes', synced],
      env,
      call('look for local commits'),
    ),
  ])
  const what: string[] = []
  if (status.trim() !== '') what.push('uncommitted changes')
  if (head.trim() !== synced || local.trim() !== '') what.push(`commits since ${synced.slice(0, 12)}`)
  if (what.length === 0) return undefined
  return { syncedCommit: synced, head: head.trim(), what: what.join(' and ') }
}

/**
 * Brings a kept workspace's remote-tracking branches (`origin/*`) to the mirror's, without touching
 * its HEAD, index or files: what the job reads from the default branch (`.uni-wizard.yaml`) is then
 * the current one, not the one of when the work started. A local fetch from the mirror (hard
 * links where it can), under the repository's lock like the clone.
 */
export async function refreshRemoteRefs(dir: string, mirror: string, g: MirrorGit): Promise<void> {
  await checkoutGit(
    g.run,
    [
      '-C',
      dir,
      'fetch',
      '--quiet',
      '--prune',
      '--no-tags',
      '--no-recurse-submodules',
      '--no-write-fetch-head',
      '--end-of-options',
      mirror,
      '+refs/heads/*:refs/remotes/origin/*',
    ],
    checkoutEnv(g.toolConfig, { local: true }),
    { what: `update the branches of the issue workspace of ${g.repoKey}`, ...g },
  )
}
