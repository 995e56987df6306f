import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CheckoutError, type CheckoutRequest } from '../../src/checkouts/index.js'
import { git, makeWorld, signal, sourceRepo, type SourceRepo, type World } from './fixture.js'

// Issue workspaces: the jobs of one issue (and house) share one checkout, kept between jobs.
describe('issue workspaces', () => {
  let w: World
  let api: SourceRepo
  let main1: string
  let fix: string

  beforeEach(async () => {
    w = await makeWorld()
    api = sourceRepo(w.projectRoot, 'acme', 'api')
    main1 = api.commit({ 'README.md': 'v1\n' }, 'first')
    api.push('main')
    git(api.work, 'checkout', '--quiet', '-b', 'fix')
    fix = api.commit({ 'fix.txt': 'fix\n' }, 'fix')
    api.push('fix')
    git(api.work, 'checkout', '--quiet', 'main')
  })
  afterEach(() => w.cleanup())

  const req = (
    jobId: string,
    issue = 4,
    target: CheckoutRequest['target'] = { kind: 'default', branch: 'main' },
    house = 'bezalel',
  ): CheckoutRequest => ({
    repo: { owner: 'acme', name: 'api' },
    cloneUrl: w.url('acme', 'api'),
    jobId,
    target,
    workspace: { issue, house },
  })

  it('keeps a write for the next job of the issue, and says the job continues that work', async () => {
    const m = w.manager()
    const first = await m.prepare(req('j1'), signal())
    expect(first.path).toBe(path.join(w.root, 'workspaces', path.basename(first.path)))
    expect(first.commit).toBe(main1)
    writeFileSync(path.join(first.path, 'note.txt'), 'kept\n')
    await first.release('success')
    expect(readFileSync(path.join(first.path, 'note.txt'), 'utf8')).toBe('kept\n')

    // The default branch moved on: the workspace with work is not brought to it.
    const main2 = api.commit({ 'README.md': 'v2\n' }, 'second')
    api.push('main')
    const second = await m.prepare(req('j2'), signal())
    expect(second.path).toBe(first.path)
    expect(second.commit).toBe(main1)
    expect(second.continued).toEqual({ syncedCommit: main1, what: 'uncommitted changes' })
    expect(second.note).toContain(
      `continues the work in this issue's workspace, started at ${main1.slice(0, 12)}`,
    )
    expect(second.note).toContain(main2.slice(0, 12))
    expect(readFileSync(path.join(second.path, 'note.txt'), 'utf8')).toBe('kept\n')
    // Its origin/main follows the default branch (settings are read from there), HEAD does not.
    expect(git(second.path, 'rev-parse', 'refs/remotes/origin/main')).toBe(main2)

    // A commit is work too (HEAD moved), even with a clean tree.
    git(second.path, 'add', 'note.txt')
    git(second.path, 'commit', '--quiet', '-m', 'note')
    const head = git(second.path, 'rev-parse', 'HEAD')
    await second.release('failure')
    const third = await m.prepare(req('j3'), signal())
    expect(third.commit).toBe(head)
    expect(third.continued?.what).toBe(`commits since ${main1.slice(0, 12)}`)

    // checkout= on a workspace with work is refused with the reason; the work stays.
    await third.release('success')
    const refused = await m
      .prepare(req('j4', 4, { kind: 'ref', ref: 'fix' }), signal())
      .catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(CheckoutError)
    expect((refused as CheckoutError).kind).toBe('bad-request')
    expect((refused as CheckoutError).message).toContain('holds work')
    expect(git(third.path, 'rev-parse', 'HEAD')).toBe(head)
    expect(readFileSync(path.join(third.path, 'note.txt'), 'utf8')).toBe('kept\n')
  }, 30_000)

  it('brings a clean workspace to the current target, and checkout= too', async () => {
    const m = w.manager()
    const first = await m.prepare(req('j1'), signal())
    await first.release('success')
    const main2 = api.commit({ 'README.md': 'v2\n' }, 'second')
    api.push('main')
    const second = await m.prepare(req('j2'), signal())
    expect(second.commit).toBe(main2)
    expect(second.continued).toBeUndefined()
    expect(readFileSync(path.join(second.path, 'README.md'), 'utf8')).toBe('v2\n')
    await second.release('success')
    const third = await m.prepare(req('j3', 4, { kind: 'ref', ref: 'fix' }), signal())
    expect(third.commit).toBe(fix)
    expect(existsSync(path.join(third.path, 'fix.txt'))).toBe(true)
    await third.release('success')
  }, 30_000)

  it('gives other issues and other houses their own workspace; two at once never see each other', async () => {
    const m = w.manager()
    const [a, b, c] = await Promise.all([
      m.prepare(req('j1', 4), signal()),
      m.prepare(req('j2', 5), signal()),
      m.prepare(req('j3', 4, undefined, 'ezra'), signal()),
    ])
    expect(new Set([a.path, b.path, c.path]).size).toBe(3)
    writeFileSync(path.join(a.path, 'only-a.txt'), 'a\n')
    expect(existsSync(path.join(b.path, 'only-a.txt'))).toBe(false)
    expect(existsSync(path.join(c.path, 'only-a.txt'))).toBe(false)
    // The same workspace twice at once is refused as busy (transient: the job is tried again).
    const busy = await m.prepare(req('j4', 4), signal()).catch((e: unknown) => e)
    expect((busy as CheckoutError).kind).toBe('busy')
    expect((busy as CheckoutError).transient).toBe(true)
    await Promise.all([a.release('success'), b.release('success'), c.release('success')])
  }, 30_000)

  it('sweep removes a workspace idle past workspaceIdleMs, never one in use', async () => {
    const m = w.manager({ workspaceIdleMs: 60_000 })
    const idle = await m.prepare(req('j1', 4), signal())
    writeFileSync(path.join(idle.path, 'note.txt'), 'x\n')
    await idle.release('success')
    const busy = await m.prepare(req('j2', 5), signal())
    // Make both look idle for two minutes: the record's lastUsedAt is what counts.
    for (const p of [idle.path, busy.path]) {
      const meta = JSON.parse(readFileSync(`${p}.json`, 'utf8')) as { workspace: { lastUsedAt: number } }
      meta.workspace.lastUsedAt = Date.now() - 120_000
      writeFileSync(`${p}.json`, JSON.stringify(meta))
      utimesSync(p, new Date(0), new Date(0))
    }
    await m.sweep()
    expect(existsSync(idle.path)).toBe(false)
    expect(existsSync(busy.path)).toBe(true)
    await busy.release('success')
    const left = readdirSync(path.join(w.root, 'workspaces'))
    expect(left.sort()).toEqual([path.basename(busy.path), `${path.basename(busy.path)}.json`].sort())
    expect(w.logLines.some((l) => l.includes('issue workspace removed by sweep'))).toBe(true)
  }, 30_000)

  it('counts workspaces in the disk budget: idle ones go once the mirrors are evicted', async () => {
    const m = w.manager({ diskBudgetBytes: 1 })
    const co = await m.prepare(req('j1', 4), signal())
    await co.release('success')
    await m.sweep()
    expect(existsSync(co.path)).toBe(false)
    expect(existsSync(path.join(w.root, 'mirrors', 'acme', 'api.git'))).toBe(false)
    expect(w.logLines.some((l) => l.includes('issue workspace evicted (disk budget)'))).toBe(true)
  }, 30_000)
})
