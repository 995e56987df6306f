import { lstat, readdir } from 'node:fs/promises'
import path from 'node:path'
import { isDotGitName, looksLikeGitDir } from '../workspace.js'

export interface WalkEntry {
  /** Path relative to the walk's start, with "/" separators. */
  rel: string
  abs: string
  type: 'file' | 'directory' | 'symlink' | 'other'
  size: number
}

export interface WalkOptions {
  recursive: boolean
  includeHidden: boolean
  ignoreDirs: readonly string[]
  signal?: AbortSignal
}

/**
 * Walks a directory breadth-first in name order without following symlinks (a link is reported,
 * never entered or read through), so a walk cannot leave the directory it started in. Git's own
 * files are never entered, whatever `ignoreDirs` says: a `.git` entry (any spelling, see
 * isDotGitName) is reported but not descended, and a directory that is a git directory by content
 * (bare repo, gitfile target) yields nothing from inside.
 */
export async function* walk(start: string, opts: WalkOptions): AsyncGenerator<WalkEntry> {
  const queue: string[] = ['']
  while (queue.length > 0) {
    opts.signal?.throwIfAborted()
    const relDir = queue.shift() as string
    const names = (await readdir(path.join(start, relDir))).sort()
    if (relDir && looksLikeGitDir(names)) continue
    for (const name of names) {
      if (!opts.includeHidden && name.startsWith('.')) continue
      const rel = relDir ? `${relDir}/${name}` : name
      const abs = path.join(start, rel)
      const st = await lstat(abs).catch(() => undefined)
      if (!st) continue
      const type = st.isSymbolicLink()
        ? 'symlink'
        : st.isFile()
          ? 'file'
          : st.isDirectory()
            ? 'directory'
            : 'other'
      yield { rel, abs, type, size: st.size }
      const enter = opts.recursive && !opts.ignoreDirs.includes(name) && !isDotGitName(name)
      if (type === 'directory' && enter) queue.push(rel)
    }
  }
}
