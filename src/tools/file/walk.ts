import { lstat, readdir } from 'node:fs/promises'
import path from 'node:path'

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
 * never entered or read through), so a walk cannot leave the directory it started in.
 */
export async function* walk(start: string, opts: WalkOptions): AsyncGenerator<WalkEntry> {
  const queue: string[] = ['']
  while (queue.length > 0) {
    opts.signal?.throwIfAborted()
    const relDir = queue.shift() as string
    const names = (await readdir(path.join(start, relDir))).sort()
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
      if (type === 'directory' && opts.recursive && !opts.ignoreDirs.includes(name)) queue.push(rel)
    }
  }
}
