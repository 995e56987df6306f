import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CheckoutError } from '../../src/checkouts/index.js'
import { resolveRepo } from '../../src/tools/git/git-repo.js'
import { git, makeWorld, signal, sourceRepo, type SourceRepo, type World } from './fixture.js'

describe('CheckoutManager.prepare', () => {
  let w: World
  let api: SourceRepo
  let main1: string
  let main2: string
  let feature: string
  let pr: string

  beforeEach(async () => {
    w = await makeWorld()
    api = sourceRepo(w.projectRoot, 'acme', 'api')
    main1 = api.commit({ 'README.md': 'v1\n', 'src/a.txt': 'a\n' }, 'first')
    api.push('main')
    git(api.work, 'tag', 'v1')
    api.push('refs/tags/v1')
    git(api.work, 'checkout', '--quiet', '-b', 'feature')
    feature = api.commit({ 'feature.txt': 'f\n' }, 'feature')
    api.push('feature')
    pr = api.commit({ 'pr.txt': 'pr\n', 'src/a.txt': 'a changed\n' }, 'pr work')
    // Gitea keeps a pull request's head at refs/pull/<n>/head.
    api.push(`${pr}:refs/pull/1/head`)
    git(api.work, 'checkout', '--quiet', 'main')
    main2 = api.commit({ 'README.md': 'v2\n' }, 'second')
    api.push('main')
  })
  afterEach(() => w.cleanup())

  it('checks an issue job out at the head of the default branch, in a repository the git tools accept', async () => {
    const co = await w.manager().prepare(
      {
        repo: { owner: 'acme', name: 'api' },
        cloneUrl: w.url('acme', 'api'),
        jobId: 'job-1',
        target: { kind: 'default', branch: 'main' },
      },
      signal(),
    )
    expect(co.commit).toBe(main2)
    expect(co.repoKey).toBe('acme/api')
    expect(co.path).toBe(path.join(w.root, 'worktrees', path.basename(co.path)))
    expect(readFileSync(path.join(co.path, 'README.md'), 'utf8')).toBe('v2\n')
    expect(git(co.path, 'rev-parse', 'HEAD')).toBe(main2)
    expect(git(co.path, 'status', '--porcelain')).toBe('')
    expect(git(co.path, 'config', 'remote.origin.url')).toBe(w.url('acme', 'api'))
    // The checkout is a whole repository of its own (no alternates, its git dir inside): the git
    // tools' checks pass with the checkout as the only workspace root.
    expect(existsSync(path.join(co.path, '.git', 'objects', 'info', 'alternates'))).toBe(false)
    const ctx = { signal: signal(), house: 'h', workspaceRoots: [co.path], log: pino({ level: 'silent' }) }
    const repo = await resolveRepo('.', ctx)
    expect(repo.top).toBe(co.path)
    expect(existsSync(path.join(w.root, 'mirrors', 'acme', 'api.git', 'HEAD'))).toBe(true)

    await co.release('success')
    expect(existsSync(co.path)).toBe(false)
    expect(existsSync(`${co.path}.json`)).toBe(false)
    await co.release('success') // idempotent
  })

  it('checks a pull request out at its head, with the base branch there so diffs work', async () => {
    const co = await w.manager().prepare(
      {
        repo: { owner: 'acme', name: 'api' },
        cloneUrl: w.url('acme', 'api'),
        jobId: 'job-pr',
        target: { kind: 'pull', number: 1, headSha: pr, baseRef: 'main' },
      },
      signal(),
    )
    expect(co.commit).toBe(pr)
    expect(co.baseCommit).toBe(main2)
    expect(co.note).toBeUndefined()
    expect(readFileSync(path.join(co.path, 'pr.txt'), 'utf8')).toBe('pr\n')
    expect(git(co.path, 'rev-parse', 'origin/main')).toBe(main2)
    expect(git(co.path, 'diff', '--name-only', 'origin/main...HEAD').split('\n').sort()).toEqual([
      'feature.txt',
      'pr.txt',
      'src/a.txt',
    ])
    await co.release('success')
  })

  it('a pull request force-pushed meanwhile: its head is gone, the current head is checked out and the note says so', async () => {
    const gone = 'f'.repeat(40)
    const co = await w.manager().prepare(
      {
        repo: { owner: 'acme', name: 'api' },
        cloneUrl: w.url('acme', 'api'),
        jobId: 'job-fp',
        target: { kind: 'pull', number: 1, headSha: gone, baseRef: 'main' },
      },
      signal(),
    )
    expect(co.commit).toBe(pr)
    expect(co.note).toMatch(/force-pushed: its head ffffffffffff is gone, checked out the current head/)
    await co.release('success')
  })

  it('a real force-push between two jobs: the second job checks out the new head', async () => {
    const m = w.manager()
    const req = (headSha: string, jobId: string) => ({
      repo: { owner: 'acme', name: 'api' },
      cloneUrl: w.url('acme', 'api'),
      jobId,
      target: { kind: 'pull' as const, number: 1, headSha, baseRef: 'main' },
    })
    const first = await m.prepare(req(pr, 'fp-1'), signal())
    git(api.work, 'checkout', '--quiet', '--detach', main1)
    const rewritten = api.commit({ 'pr.txt': 'rewritten\n' }, 'rewritten')
    api.push(`${rewritten}:refs/pull/1/head`)
    const second = await m.prepare(req(rewritten, 'fp-2'), signal())
    expect(second.commit).toBe(rewritten)
    expect(readFileSync(path.join(second.path, 'pr.txt'), 'utf8')).toBe('rewritten\n')
    expect(readFileSync(path.join(first.path, 'pr.txt'), 'utf8')).toBe('pr\n')
    await first.release('success')
    await second.release('success')
  })

  it.each([
    ['a branch', 'feature', () => feature],
    ['a tag', 'v1', () => main1],
    ['a full commit id', '', () => main1],
    ['a short commit id', 'short', () => main1],
  ])('ref= names %s', async (_what, ref, expected) => {
    const name = ref === '' ? main1 : ref === 'short' ? main1.slice(0, 10) : ref
    const co = await w.manager().prepare(
      {
        repo: { owner: 'acme', name: 'api' },
        cloneUrl: w.url('acme', 'api'),
        jobId: `ref-${ref}`,
        target: { kind: 'ref', ref: name },
      },
      signal(),
    )
    expect(co.commit).toBe(expected())
    await co.release('success')
  })

  it.each([
    ['an option-like ref', { kind: 'ref', ref: '--upload-pack=touch /tmp/x' }],
    ['an option-like ref (short)', { kind: 'ref', ref: '-x' }],
    ['a revision expression', { kind: 'ref', ref: 'main@{1}' }],
    ['a ref with ..', { kind: 'ref', ref: 'main..feature' }],
    ['an option-like branch', { kind: 'default', branch: '--all' }],
    ['a short head sha', { kind: 'pull', number: 1, headSha: 'abc', baseRef: 'main' }],
  ])('refuses %s before any git runs', async (_what, target) => {
    const err = await w
      .manager()
      .prepare(
        {
          repo: { owner: 'acme', name: 'api' },
          cloneUrl: w.url('acme', 'api'),
          jobId: 'bad',
          target,
        } as never,
        signal(),
      )
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CheckoutError)
    expect((err as CheckoutError).kind).toBe('bad-request')
    expect((err as CheckoutError).transient).toBe(false)
    expect(w.server.requests).toHaveLength(0)
    expect(existsSync(w.root)).toBe(false)
  })

  it.each([
    ['a path in the owner', { owner: '..', name: 'api' }],
    ['a slash in the name', { owner: 'acme', name: 'a/b' }],
  ])('refuses %s', async (_what, repo) => {
    const err = await w
      .manager()
      .prepare(
        { repo, cloneUrl: w.url('acme', 'api'), jobId: 'bad', target: { kind: 'default', branch: 'main' } },
        signal(),
      )
      .catch((e: unknown) => e)
    expect((err as CheckoutError).kind).toBe('bad-request')
    expect(w.server.requests).toHaveLength(0)
  })

  it.each([
    ['another origin', 'http://127.0.0.1:1/acme/api.git', /is not the Gitea the bot talks to/],
    ['credentials in the URL', 'USER', /without credentials/],
    ['a local path', '/srv/acme/api.git', /http\(s\) URL/],
    ['an ext:: transport', 'ext::sh -c touch% /tmp/x', /http\(s\) URL/],
  ])('refuses a clone URL with %s before any git runs', async (_what, url, reason) => {
    const cloneUrl = url === 'USER' ? w.url('acme', 'api').replace('http://', 'http://bot:secret@') : url
    const err = await w
      .manager()
      .prepare(
        {
          repo: { owner: 'acme', name: 'api' },
          cloneUrl,
          jobId: 'bad',
          target: { kind: 'default', branch: 'main' },
        },
        signal(),
      )
      .catch((e: unknown) => e)
    expect((err as CheckoutError).kind).toBe('bad-request')
    expect((err as Error).message).toMatch(reason)
    expect(w.server.requests).toHaveLength(0)
  })

  it('a job that resumes (resumeMs) finds the checkout its dead worker left, work included; sweep leaves it; any other request replaces it', async () => {
    const req = {
      repo: { owner: 'acme', name: 'api' },
      cloneUrl: w.url('acme', 'api'),
      jobId: 'job-r.run-1',
      target: { kind: 'default' as const, branch: 'main' },
      resumeMs: 60_000,
    }
    const first = await w.manager().prepare(req, signal())
    writeFileSync(path.join(first.path, 'AGENT.md'), 'work of an agent that outlives its worker\n')
    // The worker dies (SIGKILL): no release; its record names a process that is gone.
    const metaPath = `${first.path}.json`
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as Record<string, unknown>
    writeFileSync(metaPath, JSON.stringify({ ...meta, pid: 2 ** 22 + 7 }))
    const next = w.manager()
    await next.sweep()
    expect(existsSync(path.join(first.path, 'AGENT.md'))).toBe(true)
    const resumed = await next.prepare(req, signal())
    expect(resumed.path).toBe(first.path)
    expect(resumed.commit).toBe(main2)
    expect(resumed.note).toMatch(/resumed the checkout/)
    expect(readFileSync(path.join(resumed.path, 'AGENT.md'), 'utf8')).toContain('outlives')
    await resumed.release('success')
    expect(existsSync(resumed.path)).toBe(false)
    // Without resumeMs, a checkout of the same job id left behind is made afresh.
    const plain = { ...req, resumeMs: undefined }
    const again = await w.manager().prepare(plain, signal())
    writeFileSync(path.join(again.path, 'AGENT.md'), 'x\n')
    const fresh = await w.manager().prepare(plain, signal())
    expect(existsSync(path.join(fresh.path, 'AGENT.md'))).toBe(false)
    expect(fresh.note).toBeUndefined()
  })

  it('a branch, tag or commit that does not exist fails with a reason and leaves no checkout', async () => {
    const err = await w
      .manager()
      .prepare(
        {
          repo: { owner: 'acme', name: 'api' },
          cloneUrl: w.url('acme', 'api'),
          jobId: 'nope',
          target: { kind: 'ref', ref: 'no-such-branch' },
        },
        signal(),
      )
      .catch((e: unknown) => e)
    expect((err as CheckoutError).kind).toBe('no-such-commit')
    expect((err as Error).message).toBe('acme/api has no branch, tag or commit named no-such-branch')
    expect((err as CheckoutError).transient).toBe(false)
    expect(existsSync(path.join(w.root, 'worktrees', 'nope'))).toBe(false)
  })

  it('two jobs at once on one repository get separate checkouts at their own commits and never see each other', async () => {
    const m = w.manager()
    const base = { repo: { owner: 'acme', name: 'api' }, cloneUrl: w.url('acme', 'api') }
    const [a, b] = await Promise.all([
      m.prepare({ ...base, jobId: 'two-a', target: { kind: 'default', branch: 'main' } }, signal()),
      m.prepare(
        { ...base, jobId: 'two-b', target: { kind: 'pull', number: 1, headSha: pr, baseRef: 'main' } },
        signal(),
      ),
    ])
    expect(a.path).not.toBe(b.path)
    expect([a.commit, b.commit]).toEqual([main2, pr])
    writeFileSync(path.join(a.path, 'only-in-a.txt'), 'a\n')
    git(a.path, 'checkout', '--quiet', '-b', 'uw/job-a')
    git(a.path, 'add', 'only-in-a.txt')
    git(a.path, 'commit', '--quiet', '-m', 'a')
    expect(existsSync(path.join(b.path, 'only-in-a.txt'))).toBe(false)
    expect(git(b.path, 'status', '--porcelain')).toBe('')
    // Not even refs are shared: the branch job A made does not exist in B's repository.
    expect(git(b.path, 'branch', '--list', 'uw/job-a')).toBe('')
    expect(readFileSync(path.join(b.path, 'pr.txt'), 'utf8')).toBe('pr\n')
    expect(existsSync(path.join(a.path, 'pr.txt'))).toBe(false)
    // A later fetch (another job) does not touch A's branch either.
    const c = await m.prepare(
      { ...base, jobId: 'two-c', target: { kind: 'default', branch: 'main' } },
      signal(),
    )
    expect(git(a.path, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('uw/job-a')
    await Promise.all([a.release('success'), b.release('success'), c.release('success')])
  })

  it('N parallel prepares on one repository: one fetch at a time, shared by the requests waiting for it', async () => {
    await w.cleanup()
    w = await makeWorld({ uploadDelayMs: 150 })
    const src = sourceRepo(w.projectRoot, 'acme', 'api')
    const head = src.commit({ 'a.txt': 'a\n' })
    src.push('main')
    const m = w.manager()
    const cos = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        m.prepare(
          {
            repo: { owner: 'acme', name: 'api' },
            cloneUrl: w.url('acme', 'api'),
            jobId: `n-${i}`,
            target: { kind: 'default', branch: 'main' },
          },
          signal(),
        ),
      ),
    )
    expect(new Set(cos.map((c) => c.path)).size).toBe(6)
    expect(cos.every((c) => c.commit === head)).toBe(true)
    // Never two requests to the server at once (a fetch's own requests are sequential), and the
    // requests that arrived together shared one fetch.
    expect(w.server.maxInFlight()).toBe(1)
    expect(w.server.fetchCount()).toBe(1)
    // A request arriving after that fetch started gets a fetch of its own (it may see new commits).
    const newer = src.commit({ 'b.txt': 'b\n' })
    src.push('main')
    const late = await m.prepare(
      {
        repo: { owner: 'acme', name: 'api' },
        cloneUrl: w.url('acme', 'api'),
        jobId: 'n-late',
        target: { kind: 'default', branch: 'main' },
      },
      signal(),
    )
    expect(late.commit).toBe(newer)
    expect(w.server.fetchCount()).toBe(2)
    await Promise.all([...cos, late].map((c) => c.release('success')))
  })

  it('a missing repository fails with a clear, non-transient reason and leaves no mirror', async () => {
    const err = await w
      .manager()
      .prepare(
        {
          repo: { owner: 'acme', name: 'gone' },
          cloneUrl: w.url('acme', 'gone'),
          jobId: 'm',
          target: { kind: 'default', branch: 'main' },
        },
        signal(),
      )
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CheckoutError)
    expect((err as CheckoutError).kind).toBe('not-found')
    expect((err as Error).message).toMatch(/^the repository acme\/gone was not found on Gitea/)
    expect((err as CheckoutError).transient).toBe(false)
    expect(existsSync(path.join(w.root, 'mirrors', 'acme', 'gone.git'))).toBe(false)
  })

  it('network trouble is transient', async () => {
    await w.server.stop()
    const err = await w
      .manager()
      .prepare(
        {
          repo: { owner: 'acme', name: 'api' },
          cloneUrl: w.url('acme', 'api'),
          jobId: 'net',
          target: { kind: 'default', branch: 'main' },
        },
        signal(),
      )
      .catch((e: unknown) => e)
    expect((err as CheckoutError).kind).toBe('network')
    expect((err as CheckoutError).transient).toBe(true)
    w.server.stop = async () => undefined
  })

  it('the same job id twice at once is refused; a later run of it replaces the earlier checkout', async () => {
    const m = w.manager()
    const req = {
      repo: { owner: 'acme', name: 'api' },
      cloneUrl: w.url('acme', 'api'),
      jobId: 'same',
      target: { kind: 'default' as const, branch: 'main' },
    }
    const first = await m.prepare(req, signal())
    const err = await m.prepare(req, signal()).catch((e: unknown) => e)
    expect((err as CheckoutError).kind).toBe('bad-request')
    expect(existsSync(first.path)).toBe(true)
    writeFileSync(path.join(first.path, 'left.txt'), 'x')
    await first.release('failure') // keepFailedMs 0: removed
    expect(existsSync(first.path)).toBe(false)
    const again = await m.prepare(req, signal())
    expect(again.path).toBe(first.path)
    expect(existsSync(path.join(again.path, 'left.txt'))).toBe(false)
    await again.release('success')
  })
})

describe('CheckoutManager.prepare, cancelled', () => {
  let w: World
  afterEach(() => w.cleanup())

  it('a job cancelled during the fetch does not fail the jobs that were waiting for that fetch', async () => {
    w = await makeWorld({ uploadDelayMs: 300 })
    const src = sourceRepo(w.projectRoot, 'acme', 'api')
    const head = src.commit({ 'a.txt': 'a\n' })
    src.push('main')
    const m = w.manager()
    const req = (jobId: string) => ({
      repo: { owner: 'acme', name: 'api' },
      cloneUrl: w.url('acme', 'api'),
      jobId,
      target: { kind: 'default' as const, branch: 'main' },
    })
    const cancel = new AbortController()
    const first = m.prepare(req('cancelled'), cancel.signal).catch((e: unknown) => e)
    const second = m.prepare(req('waiting'), signal())
    setTimeout(() => cancel.abort(new Error('cancelled by the user')), 100)
    expect(((await first) as Error).message).toBe('cancelled by the user')
    const co = await second
    expect(co.commit).toBe(head)
    expect(w.server.fetchCount()).toBe(2)
    expect(existsSync(path.join(w.root, 'worktrees', path.basename(co.path)))).toBe(true)
    await co.release('success')
    expect(readdirSync(path.join(w.root, 'worktrees'))).toEqual([])
  })
})
