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
 * the first root.
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
