import { existsSync, lstatSync, readdirSync } from 'node:fs'
import path from 'node:path'

/**
 * Every regular file under a directory (symlinks are not followed), for tests that search what a
 * job left on disk (for a token, for what an agent wrote). A missing directory has none.
 *
 * @example
 *   expect(filesUnder(world.dir).some((f) => readFileSync(f, 'utf8').includes(token))).toBe(false)
 */
export function filesUnder(dir: string): string[] {
  const out: string[] = []
  const walk = (p: string): void => {
    const st = lstatSync(p, { throwIfNoEntry: false })
    if (st?.isDirectory()) for (const n of readdirSync(p)) walk(path.join(p, n))
    else if (st?.isFile()) out.push(p)
  }
  if (existsSync(dir)) walk(dir)
  return out
}
