import { randomBytes } from 'node:crypto'
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises'
import { hostname } from 'node:os'
import path from 'node:path'
import type { Logger } from '../logger.js'
import { metaPathOf, mirrorPathsOf, readMeta, removeCheckout, type CheckoutLayout } from './checkout-dirs.js'
import { diskUsage } from './disk-usage.js'
import { LAST_USED_FILE } from './mirror.js'
import type { RepoLocks } from './repo-lock.js'
import { processAlive } from '../process-alive.js'

/** A checkout directory without a meta file this old is a leftover of a crash between the two. */
const ORPHAN_AFTER_MS = 60 * 60_000

async function list(dir: string): Promise<string[]> {
  try {
    return await readdir(dir)
  } catch {
    return []
  }
}

/**
 * Removes checkouts nobody needs any more: kept failed ones whose time is up, and those of a
 * process on this host that is gone (a crash). Checkouts in use here (`active`) or by a live
 * process are left alone.
 */
export async function sweepCheckouts(
  layout: CheckoutLayout,
  active: ReadonlySet<string>,
  log: Logger,
): Promise<void> {
  const now = Date.now()
  const host = hostname()
  const names = await list(layout.worktrees)
  for (const name of names) {
    const p = path.join(layout.worktrees, name)
    if (name.endsWith('.json') || active.has(p)) continue
    const meta = await readMeta(p)
    let why: string | undefined
    if (meta?.keptUntil !== undefined) why = meta.keptUntil <= now ? 'kept time over' : undefined
    else if (meta)
      why =
        meta.host === host && !processAlive(meta.pid) && !((meta.resumableUntil ?? 0) > now)
          ? 'its process is gone'
          : undefined
    else {
      const age = await stat(p).then(
        (s) => now - s.mtimeMs,
        () => 0,
      )
      why = age > ORPHAN_AFTER_MS ? 'no record' : undefined
    }
    if (!why) continue
    await removeCheckout(p)
    log.info({ path: p, why }, 'checkout removed by sweep')
  }
  // Meta files whose checkout is gone (a crash after removing the directory).
  for (const name of names) {
    if (!name.endsWith('.json')) continue
    const p = path.join(layout.worktrees, name.slice(0, -'.json'.length))
    if (!names.includes(path.basename(p)) && !active.has(p)) await rm(metaPathOf(p), { force: true })
  }
}

/**
 * Removes issue workspaces no job used for `idleMs` (from their record's `lastUsedAt`), and
 * directories without a record older than an hour. One in use here (`active`) is left alone.
 */
export async function sweepWorkspaces(
  layout: CheckoutLayout,
  active: ReadonlySet<string>,
  idleMs: number,
  log: Logger,
): Promise<void> {
  const now = Date.now()
  const names = await list(layout.workspaces)
  for (const name of names) {
    const p = path.join(layout.workspaces, name)
    if (name.endsWith('.json') || active.has(p)) continue
    const meta = await readMeta(p)
    const last =
      meta?.workspace?.lastUsedAt ??
      (await stat(p).then(
        (s) => s.mtimeMs,
        () => 0,
      ))
    const limit = meta?.workspace ? idleMs : ORPHAN_AFTER_MS
    if (now - last <= limit) continue
    await removeCheckout(p)
    log.info({ path: p, idleMs: now - last }, 'issue workspace removed by sweep (idle)')
  }
  for (const name of names) {
    if (!name.endsWith('.json')) continue
    const p = path.join(layout.workspaces, name.slice(0, -'.json'.length))
    if (!names.includes(path.basename(p)) && !active.has(p)) await rm(metaPathOf(p), { force: true })
  }
}

/** Issue workspaces not in use, with their size and last use, for the disk budget. */
export async function idleWorkspaces(
  layout: CheckoutLayout,
  active: ReadonlySet<string>,
): Promise<{ dir: string; lastUsed: number; bytes: number; inUse: boolean }[]> {
  const found = []
  for (const name of await list(layout.workspaces)) {
    if (name.endsWith('.json')) continue
    const dir = path.join(layout.workspaces, name)
    const meta = await readMeta(dir)
    found.push({
      dir,
      lastUsed: meta?.workspace?.lastUsedAt ?? 0,
      bytes: await diskUsage(dir),
      inUse: active.has(dir),
    })
  }
  return found
}

/** Cached sizes of mirrors, valid while their last-used mark is unchanged. */
export type MirrorSizes = Map<string, { stamp: number; bytes: number }>

interface MirrorInfo {
  repoKey: string
  dir: string
  lastUsed: number
  bytes: number
}

async function mirrorsOf(layout: CheckoutLayout, sizes: MirrorSizes): Promise<MirrorInfo[]> {
  const found: MirrorInfo[] = []
  for (const owner of await list(layout.mirrors))
    for (const entry of await list(path.join(layout.mirrors, owner))) {
      if (!entry.endsWith('.git')) continue
      const repoKey = `${owner}/${entry.slice(0, -'.git'.length)}`
      const dir = path.join(layout.mirrors, owner, entry)
      const lastUsed = await stat(path.join(dir, LAST_USED_FILE)).then(
        (s) => s.mtimeMs,
        () =>
          stat(dir).then(
            (s) => s.mtimeMs,
            () => 0,
          ),
      )
      let cached = sizes.get(dir)
      if (cached?.stamp !== lastUsed) {
        cached = { stamp: lastUsed, bytes: await diskUsage(dir) }
        sizes.set(dir, cached)
      }
      found.push({ repoKey, dir, lastUsed, bytes: cached.bytes })
    }
  return found
}

export interface EvictOptions {
  layout: CheckoutLayout
  budget: number
  sizes: MirrorSizes
  busy(repoKey: string): boolean
  locks: RepoLocks
  log: Logger
  /** Issue workspaces count toward the budget too; ones not in use go after the mirrors, oldest first. */
  workspaces?: { dir: string; lastUsed: number; bytes: number; inUse: boolean }[]
}

/**
 * Evicts mirrors, least recently used first, while their total size passes the budget. A mirror
 * is removed holding its repository's lock (so never during a fetch or a clone from it, in any
 * process), only if it was not used since it was measured, by renaming it into `trash/` first (it
 * disappears at once) and then deleting it. Checkouts made from it are unaffected: they hold their
 * own hard links to its objects.
 */
export async function evictMirrors(o: EvictOptions): Promise<void> {
  const mirrors = await mirrorsOf(o.layout, o.sizes)
  const workspaces = o.workspaces ?? []
  let total = [...mirrors, ...workspaces].reduce((sum, m) => sum + m.bytes, 0)
  if (total <= o.budget) return
  mirrors.sort((a, b) => a.lastUsed - b.lastUsed)
  for (const m of mirrors) {
    if (total <= o.budget) break
    if (o.busy(m.repoKey)) continue
    const { lock } = mirrorPathsOf(o.layout, m.repoKey)
    const evicted = await o.locks
      .with(m.repoKey, lock, AbortSignal.timeout(60_000), async () => {
        const now = await stat(path.join(m.dir, LAST_USED_FILE)).then(
          (s) => s.mtimeMs,
          () => m.lastUsed,
        )
        if (now !== m.lastUsed || o.busy(m.repoKey)) return false
        await mkdir(o.layout.trash, { recursive: true })
        const aside = path.join(
          o.layout.trash,
          `${m.repoKey.replace('/', '+')}-${randomBytes(6).toString('hex')}`,
        )
        await rename(m.dir, aside)
        o.sizes.delete(m.dir)
        await rm(aside, { recursive: true, force: true })
        return true
      })
      .catch((err: unknown) => {
        // A lock held past the timeout (a long fetch elsewhere): try again at the next sweep.
        o.log.warn({ err, repo: m.repoKey }, 'mirror not evicted')
        return false
      })
    if (!evicted) continue
    total -= m.bytes
    o.log.info({ repo: m.repoKey, bytes: m.bytes, total, budget: o.budget }, 'mirror evicted (disk budget)')
  }
  // Still over: idle issue workspaces, least recently used first (their work is lost: logged).
  for (const w of [...workspaces].sort((a, b) => a.lastUsed - b.lastUsed)) {
    if (total <= o.budget) break
    if (w.inUse) continue
    await removeCheckout(w.dir)
    total -= w.bytes
    o.log.warn(
      { path: w.dir, bytes: w.bytes, total, budget: o.budget },
      'issue workspace evicted (disk budget)',
    )
  }
  if (total > o.budget) o.log.warn({ total, budget: o.budget }, 'mirrors still over the disk budget (in use)')
}
