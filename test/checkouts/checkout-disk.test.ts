import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CheckoutError, type GitRunner } from '../../src/checkouts/index.js'
import { runGit } from '../../src/checkouts/checkout-git.js'
import { makeWorld, signal, sourceRepo, type World } from './fixture.js'

const req = (w: World, name: string, jobId: string) => ({
  repo: { owner: 'acme', name },
  cloneUrl: w.url('acme', name),
  jobId,
  target: { kind: 'default' as const, branch: 'main' },
})

describe('checkouts and the disk', () => {
  let w: World
  beforeEach(async () => {
    w = await makeWorld()
    for (const name of ['api', 'web', 'docs']) {
      const src = sourceRepo(w.projectRoot, 'acme', name)
      src.commit({ 'a.txt': `${name}\n`.repeat(2000) })
      src.push('main')
    }
  })
  afterEach(() => w.cleanup())

  it('a full disk during the checkout fails the job transiently with a clear reason and removes the partial checkout', async () => {
    // git reports ENOSPC after writing part of the files.
    const full: GitRunner = async (args, opts) => {
      if (args.includes('checkout')) {
        const dir = args[args.indexOf('-C') + 1] as string
        writeFileSync(path.join(dir, 'partial.txt'), 'half')
        return {
          code: 128,
          signal: null,
          stdout: '',
          stderr: 'error: unable to write file a.txt: No space left on device\nfatal: cannot checkout',
          truncatedBytes: 0,
        }
      }
      return runGit(args, opts)
    }
    const err = await w
      .manager({ git: full })
      .prepare(req(w, 'api', 'full'), signal())
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CheckoutError)
    expect((err as CheckoutError).kind).toBe('disk-full')
    expect((err as CheckoutError).transient).toBe(true)
    expect((err as Error).message).toMatch(
      /^the checkout disk is full: check out [0-9a-f]{12} of acme\/api failed/,
    )
    expect(readdirSync(path.join(w.root, 'worktrees'))).toEqual([])
  })

  it('an ENOSPC from the file system (not git) is the same transient disk-full failure', async () => {
    const full: GitRunner = async (args, opts) => {
      if (args.includes('clone'))
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
      return runGit(args, opts)
    }
    const err = await w
      .manager({ git: full })
      .prepare(req(w, 'api', 'full2'), signal())
      .catch((e: unknown) => e)
    expect((err as CheckoutError).kind).toBe('disk-full')
    expect((err as CheckoutError).transient).toBe(true)
    expect(readdirSync(path.join(w.root, 'worktrees'))).toEqual([])
  })

  it('less free space than minFreeBytes: refused before anything is fetched', async () => {
    const err = await w
      .manager({ minFreeBytes: 1 << 20, freeBytes: async () => 4096 })
      .prepare(req(w, 'api', 'nofree'), signal())
      .catch((e: unknown) => e)
    expect((err as CheckoutError).kind).toBe('disk-full')
    expect((err as Error).message).toMatch(
      /^the checkout disk is full: a new checkout failed \(4096 bytes free/,
    )
    expect(w.server.requests).toHaveLength(0)
  })

  it('sweep evicts the least recently used mirrors past the disk budget, never one in use', async () => {
    const m = w.manager({ diskBudgetBytes: Number.MAX_SAFE_INTEGER })
    for (const name of ['api', 'web', 'docs'])
      await (await m.prepare(req(w, name, `b-${name}`), signal())).release('success')
    const mirror = (name: string) => path.join(w.root, 'mirrors', 'acme', `${name}.git`)
    // Last use: web (oldest), api, docs (newest).
    const now = Date.now() / 1000
    utimesSync(path.join(mirror('web'), 'uw-last-used'), now - 300, now - 300)
    utimesSync(path.join(mirror('api'), 'uw-last-used'), now - 200, now - 200)
    await m.sweep() // within budget: nothing goes
    expect(['api', 'web', 'docs'].every((n) => existsSync(mirror(n)))).toBe(true)

    // A budget that holds two mirrors: the least recently used one (web) is evicted.
    const { diskUsage } = await import('../../src/checkouts/disk-usage.js')
    const sizes = await Promise.all(['api', 'web', 'docs'].map((n) => diskUsage(mirror(n))))
    const tight = w.manager({ diskBudgetBytes: (sizes[0] as number) + (sizes[2] as number) })
    await tight.sweep()
    expect(existsSync(mirror('web'))).toBe(false)
    expect(existsSync(mirror('api'))).toBe(true)
    expect(existsSync(mirror('docs'))).toBe(true)
    expect(w.logLines.some((l) => l.includes('mirror evicted (disk budget)') && l.includes('acme/web'))).toBe(
      true,
    )

    // Budget 0 while a prepare of api is in flight (its fetch held up): docs goes, api stays.
    await w.server.stop()
    const slow = await makeWorld({ uploadDelayMs: 400 })
    try {
      const zero = slow.manager({ diskBudgetBytes: 0 })
      const src = sourceRepo(slow.projectRoot, 'acme', 'api')
      src.commit({ 'a.txt': 'a\n' })
      src.push('main')
      const slowMirror = (n: string) => path.join(slow.root, 'mirrors', 'acme', `${n}.git`)
      await (await zero.prepare(req(slow, 'api', 'z-1'), signal())).release('success')
      mkdirSync(path.dirname(slowMirror('docs')), { recursive: true })
      const other = sourceRepo(slow.projectRoot, 'acme', 'docs')
      other.commit({ 'd.txt': 'd\n' })
      other.push('main')
      await (await zero.prepare(req(slow, 'docs', 'z-2'), signal())).release('success')
      const inFlight = zero.prepare(req(slow, 'api', 'z-3'), signal())
      await new Promise((r) => setTimeout(r, 100))
      await zero.sweep()
      expect(existsSync(slowMirror('docs'))).toBe(false)
      expect(existsSync(slowMirror('api'))).toBe(true)
      const co = await inFlight
      expect(existsSync(path.join(co.path, 'a.txt'))).toBe(true)
      // The checkout does not need the mirror: evicting it leaves the job's files and history whole.
      await zero.sweep()
      expect(existsSync(slowMirror('api'))).toBe(false)
      expect(existsSync(path.join(co.path, 'a.txt'))).toBe(true)
      await co.release('success')
    } finally {
      await slow.cleanup()
    }
    w.server.stop = async () => undefined
  })

  it('a failed job keeps its checkout for keepFailedMs, then sweep removes it; a successful one goes at once', async () => {
    const m = w.manager({ keepFailedMs: 300 })
    const ok = await m.prepare(req(w, 'api', 'keep-ok'), signal())
    const bad = await m.prepare(req(w, 'api', 'keep-bad'), signal())
    await ok.release('success')
    await bad.release('failure')
    expect(existsSync(ok.path)).toBe(false)
    expect(existsSync(bad.path)).toBe(true)
    await m.sweep()
    expect(existsSync(bad.path)).toBe(true)
    await new Promise((r) => setTimeout(r, 350))
    await m.sweep()
    expect(existsSync(bad.path)).toBe(false)
    expect(existsSync(`${bad.path}.json`)).toBe(false)
  })

  it("sweep removes a crashed process's checkout and leaves live ones alone", async () => {
    const m = w.manager()
    const live = await m.prepare(req(w, 'api', 'live'), signal())
    const crashed = path.join(w.root, 'worktrees', 'crashed-000000000000')
    mkdirSync(crashed)
    writeFileSync(
      `${crashed}.json`,
      JSON.stringify({
        jobId: 'crashed',
        repoKey: 'acme/api',
        pid: 2 ** 22 + 1,
        host: (await import('node:os')).hostname(),
        startedAt: 0,
      }),
    )
    await m.sweep()
    expect(existsSync(crashed)).toBe(false)
    expect(existsSync(live.path)).toBe(true)
    // Another manager (as another process would) leaves it alone too: its owner is alive.
    await w.manager().sweep()
    expect(existsSync(live.path)).toBe(true)
    await live.release('success')
  })
})
