import { lstat, readdir } from 'node:fs/promises'
import path from 'node:path'

/**
 * Bytes a directory tree takes on disk (allocated blocks, each inode once, symlinks not followed),
 * like `du -s`. Files vanishing meanwhile are skipped.
 *
 * @example
 *   const bytes = await diskUsage('/data/checkouts/mirrors/acme/api.git')
 */
export async function diskUsage(dir: string): Promise<number> {
  const seen = new Set<string>()
  let total = 0
  const walk = async (p: string): Promise<void> => {
    let st
    try {
      st = await lstat(p, { bigint: true })
    } catch {
      return
    }
    const id = `${st.dev}:${st.ino}`
    if (seen.has(id)) return
    seen.add(id)
    total += Number(st.blocks) * 512
    if (!st.isDirectory()) return
    let names: string[]
    try {
      names = await readdir(p)
    } catch {
      return
    }
    await Promise.all(names.map((n) => walk(path.join(p, n))))
  }
  await walk(dir)
  return total
}
