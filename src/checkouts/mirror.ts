import { mkdir, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Logger } from '../logger.js'
import type { ToolsConfig } from '../tools/tools-config.js'
import { CheckoutError } from './checkout-error.js'
import { checkoutEnv, checkoutGit, type GitRunner } from './checkout-git.js'
import type { CheckoutTarget } from './checkout-request.js'

/** What the mirror functions run git with. */
export interface MirrorGit {
  run: GitRunner
  toolConfig: ToolsConfig | undefined
  log: Logger
  repoKey: string
  signal: AbortSignal
}

/** Written at every use: its mtime is the mirror's last use, which eviction orders by. */
export const LAST_USED_FILE = 'uw-last-used'

/**
 * Creates the bare mirror when it does not exist yet (true when it did): `git init --bare` and the clone URL as
 * `remote.origin.url` (for an operator's `git fetch origin`; the URL has no credentials).
 */
export async function ensureMirror(dir: string, cloneUrl: string, g: MirrorGit): Promise<boolean> {
  try {
    if ((await stat(path.join(dir, 'HEAD'))).isFile()) return false
  } catch {
    // not there yet
  }
  await mkdir(path.dirname(dir), { recursive: true })
  const env = checkoutEnv(g.toolConfig, {})
  const call = { what: `init the mirror of ${g.repoKey}`, ...g }
  await checkoutGit(g.run, ['init', '--quiet', '--bare', dir], env, call)
  await checkoutGit(g.run, [`--git-dir=${dir}`, 'config', 'remote.origin.url', cloneUrl], env, call)
  return true
}

/** Marks the mirror used now (eviction is least-recently-used). */
export async function touchMirror(dir: string): Promise<void> {
  await writeFile(path.join(dir, LAST_USED_FILE), `${Date.now()}\n`)
}

/**
 * The refspecs of one fetch: every branch and tag, and the refs of each pull request named
 * (Gitea's `refs/pull/<n>/head`). A pattern, not the ref itself: a pull request without a head ref
 * then fetches nothing instead of failing the fetch for every job that shares it.
 */
export function refspecsFor(pulls: Iterable<number>): string[] {
  const specs = ['+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*']
  for (const n of [...pulls].sort((a, b) => a - b)) specs.push(`+refs/pull/${n}/*:refs/pull/${n}/*`)
  return specs
}

/**
 * Fetches the mirror from `cloneUrl`: branches and tags (pruned: a deleted branch disappears) and
 * the pull requests' head refs. The token travels only in the environment, as an HTTP header.
 */
export async function fetchMirror(
  dir: string,
  cloneUrl: string,
  pulls: Iterable<number>,
  token: string | undefined,
  g: MirrorGit,
): Promise<void> {
  const env = checkoutEnv(g.toolConfig, { token })
  await checkoutGit(
    g.run,
    [
      `--git-dir=${dir}`,
      'fetch',
      '--quiet',
      '--prune',
      '--no-tags',
      '--no-recurse-submodules',
      '--no-write-fetch-head',
      '--end-of-options',
      cloneUrl,
      ...refspecsFor(pulls),
    ],
    env,
    { what: `fetch ${g.repoKey}`, token, ...g },
  )
}

/** What a target resolved to in the mirror. */
export interface ResolvedTarget {
  commit: string
  /** The base branch's commit, for a pull request (so diffs against the base work). */
  baseCommit?: string
  /** Something the job's result should say (the PR head moved, a missing base branch). */
  note?: string
}

/**
 * Names to resolve, one per line for `git cat-file --batch-check`. Each is built from a validated
 * ref name under a fixed namespace, never a revision expression the user wrote.
 */
function namesFor(target: CheckoutTarget): string[] {
  switch (target.kind) {
    case 'default':
      return [`refs/heads/${target.branch}^{commit}`]
    case 'pull':
      return [
        `${target.headSha}^{commit}`,
        `refs/pull/${target.number}/head^{commit}`,
        `refs/heads/${target.baseRef}^{commit}`,
      ]
    case 'ref':
      // A branch or tag first, so a branch named like a hex prefix still means the branch.
      return [
        `refs/heads/${target.ref}^{commit}`,
        `refs/tags/${target.ref}^{commit}`,
        ...(/^[0-9a-f]{7,64}$/.test(target.ref) ? [`${target.ref}^{commit}`] : []),
      ]
  }
}

/** Resolves the target to a commit in the mirror (one `git cat-file` for every name). */
export async function resolveTarget(
  dir: string,
  target: CheckoutTarget,
  g: MirrorGit,
): Promise<ResolvedTarget> {
  const names = namesFor(target)
  const out = await checkoutGit(
    g.run,
    [`--git-dir=${dir}`, 'cat-file', '--batch-check=%(objectname) %(objecttype)'],
    checkoutEnv(g.toolConfig, {}),
    { what: `resolve ${target.kind} in ${g.repoKey}`, input: `${names.join('\n')}\n`, ...g },
  )
  const found = out
    .split('\n')
    .slice(0, names.length)
    .map((line) => /^([0-9a-f]{40,64}) commit$/.exec(line)?.[1])
  const repo = g.repoKey
  switch (target.kind) {
    case 'default': {
      const [commit] = found
      if (!commit)
        throw new CheckoutError('no-such-commit', `${repo} has no branch ${target.branch} (or it is empty)`)
      return { commit }
    }
    case 'pull': {
      const [head, fetched, base] = found
      const baseNote = base ? undefined : `the base branch ${target.baseRef} was not found in ${repo}`
      if (head) return { commit: head, baseCommit: base, note: baseNote }
      if (!fetched)
        throw new CheckoutError(
          'no-such-commit',
          `pull request #${target.number} of ${repo} has no head (refs/pull/${target.number}/head) on Gitea`,
        )
      const moved =
        `pull request #${target.number} was force-pushed: its head ${target.headSha.slice(0, 12)} is gone, ` +
        `checked out the current head ${fetched.slice(0, 12)}`
      return { commit: fetched, baseCommit: base, note: baseNote ? `${moved}; ${baseNote}` : moved }
    }
    case 'ref': {
      const commit = found.find((c) => c !== undefined)
      if (!commit)
        throw new CheckoutError('no-such-commit', `${repo} has no branch, tag or commit named ${target.ref}`)
      return { commit }
    }
  }
}
