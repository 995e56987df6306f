import { lstat, realpath, stat } from 'node:fs/promises'
import { realpathSync } from 'node:fs'
import path from 'node:path'
import type { Stats } from 'node:fs'
import { ToolError } from './tool.js'

export interface ResolvedPath {
  /** Real (symlink-free) absolute path inside a root. For a missing file: real parent + name. */
  path: string
  /** The real root it is under. */
  root: string
  /** stat of the real path, or undefined when it does not exist. */
  stats: Stats | undefined
}

export interface ResolveOptions {
  /** Accept a path that does not exist yet (its parent must exist and be inside a root). */
  allowMissing?: boolean
  /** Refuse anything but this kind. */
  kind?: 'file' | 'directory'
}

/**
 * Whether `child` is `root` or lies below it (lexically; resolve symlinks first where they matter).
 *
 * @example
 *   isInside('/srv/repos/app', '/srv/repos') // true
 */
export function isInside(child: string, root: string): boolean {
  const rel = path.relative(root, child)
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))
}

/**
 * Whether a path component is one git (or the file system under it) treats as `.git`: compared
 * case-insensitively (the workspace may sit on a case-insensitive file system), ignoring trailing
 * dots and spaces (NTFS drops them), the code points HFS+ ignores, and the NTFS short name `GIT~1`.
 *
 * @example
 *   isDotGitName('.GIT') // true
 *   isDotGitName('.gitignore') // false
 */
export function isDotGitName(name: string): boolean {
  const n = name
    .replace(/[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g, '')
    .replace(/[. ]+$/, '')
    .toLowerCase()
  return n === '.git' || n === 'git~1'
}

// What makes a directory a git directory to git itself (setup.c is_git_directory): HEAD, plus
// objects/ and refs/, or a commondir file (a linked worktree's git dir). Existence is enough here.
const GIT_DIR_MARKS = ['head', 'objects', 'refs', 'commondir'] as const

/**
 * Whether `names` (a directory's entries, any case) make it a git directory — a `.git` dir under
 * another name: a bare repository, a gitfile's `gitdir:` target, a linked worktree's git dir.
 */
export function looksLikeGitDir(names: Iterable<string>): boolean {
  const has = new Set<string>()
  for (const n of names) {
    const l = n.toLowerCase()
    if ((GIT_DIR_MARKS as readonly string[]).includes(l)) has.add(l)
  }
  return has.has('head') && (has.has('commondir') || (has.has('objects') && has.has('refs')))
}

async function gitMarksIn(dir: string): Promise<string[]> {
  const found = await Promise.all(
    GIT_DIR_MARKS.map((m) =>
      lstat(path.join(dir, m === 'head' ? 'HEAD' : m)).then(
        () => m,
        () => undefined,
      ),
    ),
  )
  return found.filter((m): m is (typeof GIT_DIR_MARKS)[number] => m !== undefined)
}

/** The refusal every file tool gives for git's own files. */
export function gitRefusal(userPath: string, why: string): ToolError {
  return new ToolError(`refusing a path ${why} (git's own files are off limits to file tools): ${userPath}`)
}

/**
 * Refuses a real path that is, or lies inside, git's own files: any component named `.git` (see
 * isDotGitName), or any directory from the root down that is a git directory by content (a bare
 * repo, the target of a `gitdir:` gitfile). A path that does not exist yet is also refused when
 * creating it would make its directory a git directory (the last of HEAD/objects/refs/commondir).
 * Checked on the real path and each real ancestor, so spelling and symlinks do not matter.
 */
async function refuseGitInternals(
  userPath: string,
  resolved: string,
  root: string,
  stats: Stats | undefined,
): Promise<void> {
  if (resolved.split(path.sep).some(isDotGitName)) throw gitRefusal(userPath, 'named .git or inside .git')
  const dirs: string[] = []
  for (let d = stats?.isDirectory() ? resolved : path.dirname(resolved); ; d = path.dirname(d)) {
    dirs.push(d)
    if (d === root || !isInside(d, root)) break
  }
  const marks = await Promise.all(dirs.map(gitMarksIn))
  if (marks.some(looksLikeGitDir)) throw gitRefusal(userPath, 'inside a git directory')
  if (!stats && looksLikeGitDir([...(marks[0] ?? []), path.basename(resolved)]))
    throw gitRefusal(userPath, 'that would make its directory a git directory')
}

function outside(userPath: string): ToolError {
  return new ToolError(`path is outside the workspace roots: ${userPath}`)
}

async function realRoots(roots: readonly string[]): Promise<string[]> {
  if (roots.length === 0) throw new ToolError('no workspace roots are configured for this house')
  return Promise.all(roots.map((r) => realpath(r)))
}

/**
 * Resolves a user-supplied path against the workspace roots and refuses everything that could
 * reach outside them: `..` escapes, absolute paths elsewhere, symlinks whose target (or, for a new
 * file, whose parent) lies outside, and devices, FIFOs and sockets. Relative paths are taken from
 * the first root. Git's own files are refused too, for reading as for writing: anything named
 * `.git` or inside a git directory, found on the real path (see refuseGitInternals).
 *
 * @example
 *   const { path: real } = await resolveInWorkspace('src/a.ts', ctx.workspaceRoots, { kind: 'file' })
 */
export async function resolveInWorkspace(
  userPath: string,
  roots: readonly string[],
  options: ResolveOptions = {},
): Promise<ResolvedPath> {
  if (userPath.includes('\0')) throw new ToolError('path contains a NUL byte')
  const real = await realRoots(roots)
  const first = real[0] as string
  const lexical = path.resolve(first, userPath)
  // Lexically inside a root as configured or as resolved (a root may itself be reached via a symlink).
  const lexRoots = [...real, ...roots.map((r) => path.resolve(r))]
  if (!lexRoots.some((r) => isInside(lexical, r))) throw outside(userPath)
  // The real path is what counts (below); refusing the spelling too gives the same answer whether
  // or not the name exists, and before any file system call.
  if (lexical.split(path.sep).some(isDotGitName)) throw gitRefusal(userPath, 'named .git or inside .git')

  let stats: Stats | undefined
  try {
    stats = await lstat(lexical)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new ToolError(`cannot stat ${userPath}: ${(err as Error).message}`)
  }

  let resolved: string
  if (stats) {
    try {
      resolved = await realpath(lexical)
    } catch (err) {
      // A dangling symlink: writing through it would create its target wherever it points.
      throw new ToolError(`path is a dangling symlink: ${userPath}`, false, { cause: err })
    }
    stats = await stat(resolved)
  } else {
    if (!options.allowMissing) throw new ToolError(`no such file or directory: ${userPath}`)
    let parent: string
    try {
      parent = await realpath(path.dirname(lexical))
    } catch {
      throw new ToolError(`parent directory does not exist: ${path.dirname(userPath)}`)
    }
    resolved = path.join(parent, path.basename(lexical))
  }
  const root = real.find((r) => isInside(resolved, r))
  if (!root) throw new ToolError(`path resolves outside the workspace roots (symlink?): ${userPath}`)
  await refuseGitInternals(userPath, resolved, root, stats)

  if (stats) {
    if (!stats.isFile() && !stats.isDirectory()) {
      throw new ToolError(`refusing a device, FIFO or socket: ${userPath}`)
    }
    if (options.kind === 'file' && !stats.isFile()) throw new ToolError(`not a regular file: ${userPath}`)
    if (options.kind === 'directory' && !stats.isDirectory())
      throw new ToolError(`not a directory: ${userPath}`)
  }
  return { path: resolved, root, stats }
}

/**
 * A stable name for a path, without confinement checks: real path when it (or its parent) exists,
 * the lexical absolute path otherwise. Used for tool targets, which must be computed synchronously.
 */
export function describePath(userPath: string, roots: readonly string[]): string {
  const base = roots[0] ?? process.cwd()
  const lexical = path.resolve(base, userPath)
  try {
    return realpathSync(lexical)
  } catch {
    try {
      return path.join(realpathSync(path.dirname(lexical)), path.basename(lexical))
    } catch {
      return lexical
    }
  }
}
