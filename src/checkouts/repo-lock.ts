import { randomBytes } from 'node:crypto'
import { link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises'
import { hostname } from 'node:os'
import path from 'node:path'
import { processAlive } from '../process-alive.js'

interface LockOwner {
  pid: number
  host: string
  at: number
}

export interface RepoLockOptions {
  /** A lock older than this is stale even when its owner cannot be checked (another host). */
  staleMs: number
  /** Pause between attempts while another process holds the lock. */
  pollMs?: number
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>
    if (typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.at === 'number')
      return { pid: o.pid, host: o.host, at: o.at }
  } catch {
    // a lock being written, or garbage: judged by its age
  }
  return undefined
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(t)
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Mutual exclusion per repository: an in-process queue (one holder at a time, in arrival order) in
 * front of a lock file for the other processes on the same data directory. The lock file is
 * created with O_EXCL and holds `{ pid, host, at }`; it is stale when its process is gone (same
 * host) or it is older than `staleMs`. A stale lock is renamed away before it is removed, and put
 * back if it turns out to be a fresh one another process took meanwhile.
 *
 * @example
 *   await locks.with('acme/api', '/data/locks/acme/api.lock', signal, () => fetchMirror())
 */
export class RepoLocks {
  private readonly tails = new Map<string, Promise<unknown>>()
  private readonly host = hostname()

  constructor(private readonly opts: RepoLockOptions) {}

  /** Runs `fn` holding the lock of `key` (in this process) and `file` (across processes). */
  async with<T>(key: string, file: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve()
    let done!: () => void
    const mine = new Promise<void>((r) => (done = r))
    const tail = before.then(() => mine)
    this.tails.set(key, tail)
    try {
      await before
      await this.acquire(file, signal)
      try {
        return await fn()
      } finally {
        await unlink(file).catch(() => undefined)
      }
    } finally {
      done()
      if (this.tails.get(key) === tail) this.tails.delete(key)
    }
  }

  private async acquire(file: string, signal: AbortSignal): Promise<void> {
    await mkdir(path.dirname(file), { recursive: true })
    const me = JSON.stringify({ pid: process.pid, host: this.host, at: Date.now() } satisfies LockOwner)
    for (;;) {
      signal.throwIfAborted()
      try {
        const fh = await open(file, 'wx')
        try {
          await fh.writeFile(me)
        } finally {
          await fh.close()
        }
        return
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      if (!(await this.breakIfStale(file))) await sleep(this.opts.pollMs ?? 20, signal)
    }
  }

  /** Removes the lock when it is stale; true when it did (then the caller retries at once). */
  private async breakIfStale(file: string): Promise<boolean> {
    let text: string
    let mtime: number
    try {
      ;[text, mtime] = await Promise.all([readFile(file, 'utf8'), stat(file).then((s) => s.mtimeMs)])
    } catch {
      return true // released meanwhile
    }
    const owner = parseOwner(text)
    const age = Date.now() - (owner?.at ?? mtime)
    const dead = owner !== undefined && owner.host === this.host && !processAlive(owner.pid)
    if (!dead && age < this.opts.staleMs) return false
    const aside = `${file}.stale-${randomBytes(6).toString('hex')}`
    try {
      await rename(file, aside)
    } catch {
      return true // someone else broke it first
    }
    // Between our read and the rename another process may have broken it and taken a fresh one.
    if ((await readFile(aside, 'utf8').catch(() => '')) !== text)
      await link(aside, file).catch(() => undefined)
    await unlink(aside).catch(() => undefined)
    return true
  }
}
