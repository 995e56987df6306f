import { existsSync } from 'node:fs'
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

const TRANSIENT =
  /index\.lock|could not resolve host|connection (refused|timed out|reset)|early eof|rpc failed|the remote end hung up|HTTP 5\d\d|temporarily unavailable|could not read from remote/i

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
  /** Files whose change means the checks must run again (config, worktree config, alternates). */
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
 * end, transient for lock contention and network trouble.
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
  if (r.code !== 0) {
    const msg = tail(r.stderr || r.stdout)
    throw new ToolError(`git ${args[0] ?? ''} failed: ${msg}`, TRANSIENT.test(msg))
  }
  return r.stdout
}

async function stampOf(files: readonly string[]): Promise<string> {
  const parts = await Promise.all(
    files.map(async (f) => {
      try {
        const s = await stat(f, { bigint: true })
        return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`
      } catch {
        return '-'
      }
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

/** Refuses `objects/info/alternates` entries that lie outside the roots (objects read from elsewhere). */
async function checkAlternates(file: string, roots: readonly string[]): Promise<void> {
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
    await insideRoots(
      path.resolve(path.dirname(path.dirname(file)), entry),
      'alternate object directory',
      roots,
    )
  }
}

/** `submodule.<name>.ignore=dirty` for each submodule name in `.gitmodules` (read as data). */
async function submoduleIgnores(gitmodules: string, ctx: ToolContext): Promise<[string, string][]> {
  try {
    if (!(await lstat(gitmodules)).isFile()) return []
  } catch {
    return []
  }
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
  const alternates = path.join(commonDir, 'objects', 'info', 'alternates')
  await checkAlternates(alternates, roots)
  const gitmodules = path.join(top, '.gitmodules')
  const submoduleConfig = await submoduleIgnores(gitmodules, ctx)
  const watched = [
    gitmodules,
    path.join(commonDir, 'config'),
    path.join(commonDir, 'config.worktree'),
    path.join(gitDir, 'config.worktree'),
    alternates,
  ]
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
