import { existsSync } from 'node:fs'
import type { BigIntStats } from 'node:fs'
import { lstat, readFile, realpath, stat } from 'node:fs/promises'
import path from 'node:path'
import { z } from 'zod'
import { sha256Hex } from '../digest.js'
import { exec, tail, type ExecResult } from '../exec.js'
import { toolsConfigOf } from '../tools-config.js'
import { ToolError, type ToolContext } from '../tool.js'
import { describePath, isInside, resolveInWorkspace } from '../workspace.js'
import {
  SAFE_CONFIG,
  checkRepoConfig,
  parseConfigList,
  remotesOf,
  type ConfiguredRemote,
} from './git-config-policy.js'

/**
 * A ref or branch name as an argument: never starting with "-" (it would be read as an
 * option), no whitespace, control characters or the characters git forbids in ref names.
 */
export const GitRefName = z
  .string()
  .min(1)
  .max(255)
  .refine((r) => !r.startsWith('-'), 'must not start with "-"')
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  .refine((r) => !/[\s\x00-\x1f\x7f~^:?*[\\]|\.\.|@\{/.test(r), 'not a valid git ref name')

/** A repository path in the workspace; `.` (the default) is the house's first workspace root, so `/run git_status` needs no argument. */
export const RepoPathArg = z.string().min(1).max(4096).default('.')

/**
 * The environment for every git child, built from nothing (no inherited GIT_* variable): no system
 * or global config, no system attributes, only the http and https transports, never a prompt, an
 * editor or a pager, C locale so messages can be matched, and SAFE_CONFIG as command-line config.
 */
export function gitEnv(
  ctx: ToolContext,
  extraConfig: readonly (readonly [string, string])[] = [],
): NodeJS.ProcessEnv {
  const { authorName, authorEmail } = toolsConfigOf(ctx).git
  const config = [...SAFE_CONFIG, ...extraConfig]
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_ATTR_NOSYSTEM: '1',
    // Overrides protocol.* config wherever it comes from: only these transports exist.
    GIT_ALLOW_PROTOCOL: 'http:https',
    GIT_TERMINAL_PROMPT: '0',
    GIT_EDITOR: ':',
    GIT_SEQUENCE_EDITOR: ':',
    GIT_PAGER: 'cat',
    GIT_CONFIG_COUNT: String(config.length),
    ...Object.fromEntries(
      config.flatMap(([key, value], i) => [
        [`GIT_CONFIG_KEY_${i}`, key],
        [`GIT_CONFIG_VALUE_${i}`, value],
      ]),
    ),
    ...(authorName ? { GIT_AUTHOR_NAME: authorName, GIT_COMMITTER_NAME: authorName } : {}),
    ...(authorEmail ? { GIT_AUTHOR_EMAIL: authorEmail, GIT_COMMITTER_EMAIL: authorEmail } : {}),
  }
}

// How git's own failure messages are classified. Each pattern is a whole line of stderr (C locale),
// anchored at both ends, and made so that no argument a caller passes can produce it: arguments
// never hold whitespace or line breaks (GitRefName, GitRemoteArg), so where a line quotes one it
// is a single `\S+` token, and the words around it come from git alone. Never a search through
// stderr: `fatal: bad revision 'index.lock'` quotes the caller and must not read as lock contention.

/** Lock contention: another git holds the index lock (the path is checked to be this repo's). */
const INDEX_LOCKED = /^fatal: Unable to create '(.+)': File exists\.$/

/** Network trouble reaching the remote. */
const NETWORK: readonly RegExp[] = [
  /^fatal: unable to access '\S+': (?:Could not resolve host: \S+|Could not resolve proxy: \S+|Failed to connect to .+|Connection timed out after .+|Operation timed out after .+|Recv failure: .+|Send failure: .+|Empty reply from server|SSL connect error.*|OpenSSL SSL_(?:read|connect): .+|gnutls_handshake\(\) failed: .+|The requested URL returned error: (?:5\d\d|429))$/,
  /^error: RPC failed; (?:HTTP (?:5\d\d|429) )?curl \d+ .+$/,
  /^fatal: the remote end hung up unexpectedly$/,
  /^fatal: early EOF$/,
  /^fatal: expected flush after ref listing$/,
  /^fatal: index-pack failed$/,
]

/** Failures of what the caller named: a revision, path, branch or remote ref that is not there. */
const CALLER: readonly RegExp[] = [
  /^fatal: bad revision '\S+'$/,
  /^fatal: ambiguous argument '\S+': unknown revision or path not in the working tree\.$/,
  /^fatal: ambiguous argument '\S+': both revision and filename$/,
  /^error: pathspec '.+' did not match any file\(s\) known to git$/,
  /^fatal: invalid reference: \S+$/,
  /^fatal: couldn't find remote ref \S+$/,
  /^fatal: Needed a single revision$/,
  /^fatal: Not a valid object name:? '?\S+'?$/,
  /^fatal: bad object \S+$/,
  /^fatal: '\S+' is not a commit and a branch '\S+' cannot be created from it$/,
  /^fatal: a branch named '\S+' already exists$/,
  /^error: src refspec \S+ does not match any$/,
  /^fatal: invalid refspec '\S+'$/,
  /^fatal: '\S+' is not a valid branch name$/,
]

/**
 * The ToolError for a failed git command, classified from git's own anchored messages (never from
 * text a caller's argument can put there): lock contention on this repository's index and network
 * failures are transient (the dependency's fault, unless the caller named the remote by URL); a
 * revision, path or remote ref that does not exist is the caller's; anything else is a plain
 * (non-transient) failure.
 *
 * @example
 *   throw await gitFailure(repo, ['log', 'nope'], result) // ToolError 'git log failed: …', fault 'caller'
 */
export async function gitFailure(
  repo: CheckedRepo,
  args: readonly string[],
  r: ExecResult,
): Promise<ToolError> {
  const msg = tail(r.stderr || r.stdout)
  const message = `git ${args[0] ?? ''} failed: ${msg}`
  const lines = r.stderr.split('\n').map((l) => l.replace(/\r$/, ''))
  for (const line of lines) {
    const locked = INDEX_LOCKED.exec(line)?.[1]
    if (locked && path.basename(locked) === 'index.lock') {
      const dir = await realpath(path.dirname(locked)).catch(() => '')
      if (dir === repo.gitDir || dir === repo.commonDir)
        return new ToolError(message, true, { fault: 'dependency' })
    }
  }
  if (lines.some((l) => NETWORK.some((re) => re.test(l)))) {
    // A remote the caller named by URL is the caller's choice: retried, but it never opens the breaker.
    const callerUrl = args.some((a) => /^https?:\/\//i.test(a))
    return new ToolError(message, true, { fault: callerUrl ? 'caller' : 'dependency' })
  }
  if (lines.some((l) => CALLER.some((re) => re.test(l))))
    return new ToolError(message, false, { fault: 'caller' })
  return new ToolError(message, false)
}

/**
 * A repository that passed `resolveRepo`'s checks: its top level, git directory and common
 * directory are inside the workspace roots, and its own config holds only data keys.
 */
export interface CheckedRepo {
  /** Real path of the work tree's top level. */
  top: string
  gitDir: string
  commonDir: string
  /** Remotes configured in the checkout (`remote.<name>.url` / `.pushurl`). */
  remotes: Map<string, ConfiguredRemote>
  /** Paths whose change means the checks must run again (config, worktree config, gitfile, commondir, every level of alternates, .gitmodules). */
  watched: string[]
  /**
   * `submodule.<name>.ignore=dirty` for every submodule `.gitmodules` names: command-line config
   * beats `.gitmodules`, so no git the tools run looks inside a submodule's work tree (which would
   * run git there, under the submodule's own unchecked config and attributes).
   */
  submoduleConfig: [string, string][]
  /** Their identity (inode, size, mtime) when they were checked. */
  stamp: string
}

export interface GitRunOptions {
  /** Written to git's stdin. */
  input?: string
  /** More command-line config (the pins of a checked remote). */
  config?: readonly (readonly [string, string])[]
}

function execGit(
  cwd: string,
  args: string[],
  ctx: ToolContext,
  options: GitRunOptions = {},
): Promise<ExecResult> {
  return exec('git', ['--no-pager', '-C', cwd, ...args], {
    env: gitEnv(ctx, options.config),
    signal: ctx.signal,
    maxOutputBytes: toolsConfigOf(ctx).exec.maxOutputBytes,
    input: options.input,
  })
}

/**
 * Runs git in a checked repo; returns the result (any exit code). When the repository's config
 * (or alternates) changed since it was checked, it is checked again first.
 */
export async function gitRaw(
  repo: CheckedRepo,
  args: string[],
  ctx: ToolContext,
  options: GitRunOptions = {},
): Promise<ExecResult> {
  if ((await stampOf(repo.watched)) !== repo.stamp) Object.assign(repo, await checkRepo(repo.top, ctx))
  return execGit(repo.top, args, ctx, {
    ...options,
    config: [...repo.submoduleConfig, ...(options.config ?? [])],
  })
}

/**
 * Runs git in a checked repo and returns stdout; a non-zero exit throws a ToolError with stderr's
 * end, classified by `gitFailure` (transient for lock contention and network trouble).
 *
 * @example
 *   const head = (await git(repo, ['rev-parse', 'HEAD'], ctx)).trim()
 */
export async function git(
  repo: CheckedRepo,
  args: string[],
  ctx: ToolContext,
  options: GitRunOptions = {},
): Promise<string> {
  const r = await gitRaw(repo, args, ctx, options)
  if (r.code !== 0) throw await gitFailure(repo, args, r)
  return r.stdout
}

/**
 * The identity of each watched path: `lstat` (a file swapped for a symlink, or re-pointed) plus
 * `stat` (what git reads through it). A directory (a `.git` that is a directory) counts by inode
 * only: git itself changes its mtime with every lock file.
 */
async function stampOf(files: readonly string[]): Promise<string> {
  const id = (s: BigIntStats) =>
    s.isDirectory() ? `d${s.dev}:${s.ino}` : `${s.mode}:${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`
  const parts = await Promise.all(
    files.map(async (f) => {
      const [l, s] = await Promise.all([
        lstat(f, { bigint: true }).then(id, () => '-'),
        stat(f, { bigint: true }).then(id, () => '-'),
      ])
      return `${l}/${s}`
    }),
  )
  return parts.join('|')
}

async function insideRoots(p: string, what: string, roots: readonly string[]): Promise<string> {
  let real: string
  try {
    real = await realpath(p)
  } catch {
    throw new ToolError(`refused: the repository's ${what} (${p}) does not exist`)
  }
  const realRoots = await Promise.all(roots.map((r) => realpath(r)))
  if (!realRoots.some((r) => isInside(real, r)))
    throw new ToolError(`refused: the repository's ${what} (${real}) is outside the workspace roots`)
  return real
}

/** How deep git follows alternates of alternates (its own limit is 5; deeper ones it ignores). */
const MAX_ALTERNATES_DEPTH = 5

/**
 * Refuses `objects/info/alternates` entries that lie outside the roots (objects read from
 * elsewhere), following them the way git does: each alternate object directory's own
 * `info/alternates` is read in turn (relative entries against that directory), to git's depth.
 * Every alternates file read or looked for is added to `watched`, so one planted later (by a
 * `file_write` into an alternate directory inside the roots) makes the check run again.
 */
async function checkAlternates(
  objectsDir: string,
  roots: readonly string[],
  watched: string[],
  depth = 0,
  seen = new Set<string>(),
): Promise<void> {
  const file = path.join(objectsDir, 'info', 'alternates')
  watched.push(file)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    return
  }
  for (const line of text.split('\n')) {
    const entry = line.trim()
    if (!entry || entry.startsWith('#')) continue
    if (entry.startsWith('"')) throw new ToolError('refused: a quoted objects/info/alternates entry')
    const real = await insideRoots(path.resolve(objectsDir, entry), 'alternate object directory', roots)
    if (seen.has(real)) continue
    seen.add(real)
    if (depth + 1 > MAX_ALTERNATES_DEPTH)
      throw new ToolError(
        `refused: objects/info/alternates nested more than ${MAX_ALTERNATES_DEPTH} deep (at ${real})`,
      )
    await checkAlternates(real, roots, watched, depth + 1, seen)
  }
}

/**
 * `submodule.<name>.ignore=dirty` for each submodule name in `.gitmodules` (read as data). A
 * `.gitmodules` that is not a regular file is refused: git follows a symlink there (and would read
 * submodule settings this check never saw, from anywhere the link points).
 */
async function submoduleIgnores(gitmodules: string, ctx: ToolContext): Promise<[string, string][]> {
  let kind: string
  try {
    const s = await lstat(gitmodules)
    kind = s.isFile() ? 'file' : s.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'
  } catch {
    return []
  }
  if (kind !== 'file')
    throw new ToolError(
      `refused: the repository's .gitmodules is ${kind}; git would follow it to submodule settings ` +
        'that cannot be checked. Replace it with a regular file (see docs/TOOLS.md, "git tools").',
    )
  const r = await execGit(
    path.dirname(gitmodules),
    ['config', '--file', gitmodules, '--no-includes', '--null', '--name-only', '--list'],
    ctx,
  )
  // An unreadable .gitmodules: git itself fails on it before entering any submodule.
  if (r.code !== 0) return []
  const names = new Set<string>()
  for (const key of r.stdout.split('\0')) {
    const m = /^submodule\.(.+)\.[^.]+$/s.exec(key)
    if (m && !/[\n\0]/.test(m[1] as string)) names.add(m[1] as string)
  }
  return [...names].map((n) => [`submodule.${n}.ignore`, 'dirty'])
}

/**
 * Finds the repository that `dir` belongs to and checks it (see resolveRepo). Nothing git runs
 * here can start a program: discovery and `git config --list` read config, they act on none of it.
 */
async function checkRepo(dir: string, ctx: ToolContext): Promise<CheckedRepo> {
  const [where, listed] = await Promise.all([
    execGit(
      dir,
      ['rev-parse', '--path-format=absolute', '--show-toplevel', '--absolute-git-dir', '--git-common-dir'],
      ctx,
    ),
    execGit(dir, ['config', '--list', '--show-scope', '--no-includes', '--null'], ctx),
  ])
  if (where.code !== 0) throw new ToolError(`not a git repository: ${dir}`)
  const [topRaw = '', gitDirRaw = '', commonRaw = ''] = where.stdout.split('\n')
  const roots = ctx.workspaceRoots
  const top = await insideRoots(topRaw, 'top level', roots)
  const gitDir = await insideRoots(gitDirRaw, 'git directory', roots)
  const commonDir = await insideRoots(commonRaw, 'common git directory', roots)
  if (listed.code !== 0)
    throw new ToolError(`refused: cannot read the repository's config: ${tail(listed.stderr)}`)
  const entries = parseConfigList(listed.stdout)
  checkRepoConfig(entries)
  const gitmodules = path.join(top, '.gitmodules')
  const watched = [
    gitmodules,
    // The gitfile and `commondir` say where the git directory is: swapped, everything else moves.
    path.join(top, '.git'),
    path.join(gitDir, 'commondir'),
    path.join(commonDir, 'config'),
    path.join(commonDir, 'config.worktree'),
    path.join(gitDir, 'config.worktree'),
  ]
  await checkAlternates(path.join(commonDir, 'objects'), roots, watched)
  const submoduleConfig = await submoduleIgnores(gitmodules, ctx)
  return {
    top,
    gitDir,
    commonDir,
    remotes: remotesOf(entries),
    watched,
    submoduleConfig,
    stamp: await stampOf(watched),
  }
}

/**
 * Resolves `repoPath` inside the workspace roots to its git repository and checks that git can be
 * run there without running anything the repository names: its top level, git directory (a
 * `.git` file may point elsewhere) and common directory are inside the roots, every key of its own
 * config is on the data-only allowlist (no filter, driver, hook path, include, alias, URL rewrite,
 * program...), and no alternate object directory lies outside. Refusals name the reason.
 *
 * @example
 *   const repo = await resolveRepo('app', ctx) // repo.top: '/srv/ws/app'
 */
export async function resolveRepo(repoPath: string, ctx: ToolContext): Promise<CheckedRepo> {
  const dir = (await resolveInWorkspace(repoPath, ctx.workspaceRoots, { kind: 'directory' })).path
  try {
    return await checkRepo(dir, ctx)
  } catch (err) {
    if (err instanceof ToolError && err.message.startsWith('not a git repository'))
      throw new ToolError(`not a git repository: ${repoPath}`)
    throw err
  }
}

/**
 * `repo:<realpath of the top level>`, the target every git tool declares. Computed synchronously
 * (targets are), by walking up to the directory holding `.git`; a path in no repo names itself.
 */
export function repoTarget(repoPath: string, ctx: ToolContext): string {
  const start = describePath(repoPath, ctx.workspaceRoots)
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, '.git'))) return `repo:${dir}`
    if (path.dirname(dir) === dir) return `repo:${start}`
  }
}

/**
 * For every `git status`: a submodule's work tree is never examined (that would run git inside the
 * submodule with its own, unchecked config and attributes); its checked-out commit still shows.
 * On the command line because `submodule.<name>.ignore` in `.gitmodules` (repository content)
 * overrides the `diff.ignoreSubmodules` config.
 */
export const IGNORE_SUBMODULES = '--ignore-submodules=dirty'

/** HEAD (or "none" in an empty repo) — also the evidence after commit, checkout and pull. */
export async function headOf(repo: CheckedRepo, ctx: ToolContext): Promise<string> {
  const r = await gitRaw(repo, ['rev-parse', '--verify', '--quiet', 'HEAD'], ctx)
  return r.code === 0 ? r.stdout.trim() : 'none'
}

/** Digest of HEAD plus `status --porcelain`: changes whenever a commit or the working tree does. */
export async function repoDigest(repo: CheckedRepo, ctx: ToolContext): Promise<string> {
  const [head, status] = await Promise.all([
    headOf(repo, ctx),
    git(repo, ['status', '--porcelain=v1', '-z', IGNORE_SUBMODULES], ctx),
  ])
  return sha256Hex(`${head}\n${status}`)
}

/** For `targetDigest`: the repo digest, or undefined when the path is not (yet) a usable repo. */
export async function repoDigestOrUndefined(repoPath: string, ctx: ToolContext): Promise<string | undefined> {
  try {
    return await repoDigest(await resolveRepo(repoPath, ctx), ctx)
  } catch {
    return undefined
  }
}

/** The current branch name, or undefined on a detached HEAD. */
export async function currentBranch(repo: CheckedRepo, ctx: ToolContext): Promise<string | undefined> {
  const r = await gitRaw(repo, ['symbolic-ref', '--quiet', '--short', 'HEAD'], ctx)
  return r.code === 0 ? r.stdout.trim() : undefined
}

/** Refuses a path argument that leaves the repo; returns it relative to the repo. */
export function repoRelative(repo: CheckedRepo, p: string): string {
  const abs = path.resolve(repo.top, p)
  const rel = path.relative(repo.top, abs)
  if (rel.startsWith('..') || path.isAbsolute(rel))
    throw new ToolError(`path is outside the repository: ${p}`)
  return rel === '' ? '.' : rel
}
