import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { RepoLocks } from '../../src/checkouts/repo-lock.js'

describe('RepoLocks', () => {
  let dir: string
  let file: string
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'uw-lock-'))
    file = path.join(dir, 'locks', 'acme', 'api.lock')
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  const owner = (pid: number, at = Date.now()) => JSON.stringify({ pid, host: hostname(), at })

  it('holders never overlap: in one process, and across two (two instances on one lock file)', async () => {
    const a = new RepoLocks({ staleMs: 60_000, pollMs: 2 })
    const b = new RepoLocks({ staleMs: 60_000, pollMs: 2 })
    let inside = 0
    let most = 0
    const order: number[] = []
    const work = (locks: RepoLocks, i: number) =>
      locks.with('acme/api', file, AbortSignal.timeout(10_000), async () => {
        most = Math.max(most, ++inside)
        expect(existsSync(file)).toBe(true)
        await new Promise((r) => setTimeout(r, 10))
        order.push(i)
        inside--
        return i
      })
    const results = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => work(i % 2 ? b : a, i)))
    expect(results).toEqual([0, 1, 2, 3, 4, 5])
    expect(most).toBe(1)
    expect(order).toHaveLength(6)
    expect(existsSync(file)).toBe(false)
  })

  it('releases the lock when the work throws', async () => {
    const locks = new RepoLocks({ staleMs: 60_000 })
    await expect(
      locks.with('k', file, AbortSignal.timeout(5_000), async () => {
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    expect(existsSync(file)).toBe(false)
    expect(await locks.with('k', file, AbortSignal.timeout(5_000), async () => 'again')).toBe('again')
  })

  it('breaks the lock of a process that is gone, at once', async () => {
    const locks = new RepoLocks({ staleMs: 60_000 })
    await locks.with('k', file, AbortSignal.timeout(5_000), async () => undefined) // makes the directory
    writeFileSync(file, owner(2 ** 22 + 1))
    const t0 = Date.now()
    expect(await locks.with('k', file, AbortSignal.timeout(5_000), async () => 'mine')).toBe('mine')
    expect(Date.now() - t0).toBeLessThan(1_000)
  })

  it('waits for a live process, and breaks its lock only once it is older than staleMs', async () => {
    const child = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' })
    try {
      const locks = new RepoLocks({ staleMs: 60_000, pollMs: 5 })
      await locks.with('k', file, AbortSignal.timeout(5_000), async () => undefined)
      writeFileSync(file, owner(child.pid as number))
      const waiting = locks.with('k', file, AbortSignal.timeout(5_000), async () => 'after')
      await new Promise((r) => setTimeout(r, 100))
      expect(existsSync(file)).toBe(true)
      unlinkSync(file) // the other process releases
      expect(await waiting).toBe('after')

      writeFileSync(file, owner(child.pid as number, Date.now() - 10_000))
      const old = new RepoLocks({ staleMs: 5_000 })
      expect(await old.with('k', file, AbortSignal.timeout(5_000), async () => 'stale')).toBe('stale')

      writeFileSync(file, owner(child.pid as number))
      await expect(locks.with('k', file, AbortSignal.timeout(100), async () => 'never')).rejects.toThrow()
    } finally {
      process.kill(-(child.pid as number), 'SIGKILL')
    }
  })
})
