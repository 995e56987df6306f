import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createGiteaDouble, startGiteaDouble, type GiteaDouble } from '../../src/gitea/double/index.js'
import { giteaDoubleHandlers } from '../../src/gitea/double/msw-handlers.js'
import { GiteaError } from '../../src/gitea/gitea-error.js'
import { GiteaJsAdapter, type GiteaJsAdapterOptions } from '../../src/gitea/gitea-js-adapter.js'
import { backoffDelay, DEFAULT_RETRY_POLICY, parseRetryAfter } from '../../src/gitea/retry-policy.js'
import { freePort } from '../../src/queue/redis-server.js'
import { seedGiteaWorld, type GiteaWorld } from '../helpers/gitea-world.js'

const server = setupServer()
beforeAll(() => server.listen({ onUnhandledRequest: 'bypass' }))
afterAll(() => server.close())

describe('GiteaJsAdapter retries', () => {
  let double: GiteaDouble
  let w: GiteaWorld
  let sleeps: number[]
  const adapter = (extra: Partial<GiteaJsAdapterOptions> = {}) =>
    new GiteaJsAdapter({
      baseUrl: double.baseUrl,
      token: w.tokens.bot,
      retry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 4 },
      sleep: async (ms) => {
        sleeps.push(ms)
      },
      ...extra,
    })
  const attempts = () => double.requests.filter((r) => r.path === '/api/v1/repos/alice/demo/issues/1').length

  beforeEach(() => {
    double = createGiteaDouble({ baseUrl: 'http://gitea.test' })
    w = seedGiteaWorld(double)
    sleeps = []
    server.resetHandlers(...giteaDoubleHandlers(double))
  })
  afterEach(() => double.assertContract())

  it('retries a 500 and then succeeds', async () => {
    double.faults.set({ status: 500, count: 1 })
    expect((await adapter().getIssue(w.repo, 1)).number).toBe(1)
    expect(attempts()).toBe(2)
    expect(sleeps).toHaveLength(1)
  })

  it.each([
    ['delta seconds', '2', 2000],
    ['capped at maxRetryAfterMs', '3600', 5000],
  ])('honours Retry-After on 429 (%s)', async (_name, retryAfter, expected) => {
    double.faults.set({ status: 429, retryAfter, count: 1 })
    await adapter({ retry: { attempts: 3, baseDelayMs: 1, maxRetryAfterMs: 5000 } }).getIssue(w.repo, 1)
    expect(sleeps).toEqual([expected])
  })

  it('honours Retry-After given as an HTTP date', async () => {
    const at = new Date(Date.now() + 3_000).toUTCString()
    double.faults.set({ status: 429, retryAfter: at, count: 1 })
    await adapter().getIssue(w.repo, 1)
    expect(sleeps[0]).toBeGreaterThan(1000)
    expect(sleeps[0]).toBeLessThanOrEqual(3000)
  })

  it.each([400, 401, 403, 404, 409, 422])('never retries a %i', async (status) => {
    double.faults.set({ status, count: 10 })
    const err = await adapter()
      .getIssue(w.repo, 1)
      .catch((e: unknown) => e)
    expect(err).toMatchObject({ status, operation: 'getIssue', transient: false, attempts: 1 })
    expect(attempts()).toBe(1)
    expect(sleeps).toEqual([])
  })

  it('retries a network error', async () => {
    double.faults.set({ network: true, count: 2 })
    expect((await adapter().getIssue(w.repo, 1)).number).toBe(1)
    expect(attempts()).toBe(3)
  })

  it('turns a hung request into a retried timeout', async () => {
    double.faults.set({ hangMs: 400, status: 500, count: 1 })
    expect((await adapter({ requestTimeoutMs: 100 }).getIssue(w.repo, 1)).number).toBe(1)
    expect(sleeps).toHaveLength(1)
  })

  it('does not resend a comment whose request timed out: Gitea may have applied it', async () => {
    // The double applies the request but answers late: the client gave up, Gitea did not.
    double.faults.set({ lateMs: 300, count: 1 })
    const err = await adapter({ requestTimeoutMs: 100 })
      .createComment(w.repo, 1, 'exactly once')
      .catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 0, operation: 'createComment', transient: true, attempts: 1 })
    expect((err as Error).message).toContain('not retried')
    await new Promise((r) => setTimeout(r, 400))
    const posted = double.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/issues/1/comments'))
    expect(posted).toHaveLength(1)
    expect((await adapter().listComments(w.repo, 1)).filter((c) => c.body === 'exactly once')).toHaveLength(1)
  })

  it('still resends a comment that never reached Gitea (connection refused)', async () => {
    const port = await freePort()
    const err = await new GiteaJsAdapter({
      baseUrl: `http://127.0.0.1:${port}`,
      token: 't',
      retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
      sleep: async () => undefined,
    })
      .createComment(w.repo, 1, 'nobody listens')
      .catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 0, operation: 'createComment', transient: true, attempts: 3 })
    expect((err as Error).message).not.toContain('not retried')
  })

  it('still resends a comment Gitea refused without applying it (429, 503)', async () => {
    double.faults.set({ status: 429, retryAfter: '0', count: 1 })
    expect((await adapter().createComment(w.repo, 1, 'after 429')).body).toBe('after 429')
    double.faults.set({ status: 503, count: 1 })
    expect((await adapter().createComment(w.repo, 1, 'after 503')).body).toBe('after 503')
    expect((await adapter().listComments(w.repo, 1)).filter((c) => c.body.startsWith('after '))).toHaveLength(
      2,
    )
  })

  it('does not resend a comment after a 500 or a dropped connection, and says why', async () => {
    double.faults.set({ status: 500, count: 1 })
    const err = await adapter()
      .createComment(w.repo, 1, 'maybe')
      .catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 500, operation: 'createComment', transient: true, attempts: 1 })
    expect((err as Error).message).toContain('not retried')
    expect(sleeps).toEqual([])
  })

  it('does not resend a pull request whose answer was lost, but resends one refused with 503', async () => {
    const code = double.createRepo({ owner: 'alice', name: 'code', git: true })
    double.addCollaborator(code, 'gitea-bot', 'write')
    double.seedCommits(code, { 'README.md': '# code\n' }, 'Initial commit')
    double.seedCommits(code, { 'a.txt': 'a\n' }, 'A', { branch: 'uw/bezalel/a' })
    try {
      const input = { head: 'uw/bezalel/a', base: 'main', title: 'A', body: '' }
      double.faults.set({ lateMs: 300, count: 1 })
      const err = await adapter({ requestTimeoutMs: 100 })
        .createPullRequest(code, input)
        .catch((e: unknown) => e)
      expect(err).toMatchObject({
        status: 0,
        operation: 'createPullRequest',
        mayHaveBeenApplied: true,
        attempts: 1,
      })
      await new Promise((r) => setTimeout(r, 400))
      // Gitea applied it: the caller finds it instead of opening a second one.
      expect((await adapter().listPullRequests(code, { state: 'open' })).map((p) => p.headRef)).toEqual([
        'uw/bezalel/a',
      ])
      double.seedCommits(code, { 'b.txt': 'b\n' }, 'B', { branch: 'uw/bezalel/b' })
      double.faults.set({ status: 503, count: 1 })
      const pr = await adapter().createPullRequest(code, { ...input, head: 'uw/bezalel/b' })
      expect(pr.headRef).toBe('uw/bezalel/b')
      expect(double.repoOf(code).issues.size).toBe(2)
    } finally {
      double.close()
    }
  })

  it('does not resend a review after a 500 (Gitea may have posted it), but resends one refused with 429', async () => {
    double.faults.set({ status: 500, count: 1 })
    const err = await adapter()
      .createPullReview(w.repo, w.pull, { body: 'findings' })
      .catch((e: unknown) => e)
    expect(err).toMatchObject({
      status: 500,
      operation: 'createPullReview',
      mayHaveBeenApplied: true,
      attempts: 1,
    })
    expect(double.requests.filter((r) => r.path.endsWith(`/pulls/${w.pull}/reviews`))).toHaveLength(1)
    double.faults.set({ status: 429, count: 1 })
    const review = await adapter().createPullReview(w.repo, w.pull, { body: 'findings' })
    expect(double.reviews(w.repo, w.pull).map((r) => r.id)).toEqual([review.id])
  })

  it('gives up with a typed, transient error carrying status, operation and attempts', async () => {
    double.faults.set({ status: 503 })
    const err = await adapter()
      .createComment(w.repo, 1, 'hello')
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(GiteaError)
    expect(err).toMatchObject({ status: 503, operation: 'createComment', transient: true, attempts: 4 })
    expect((err as Error).message).toContain('injected fault 503')
    expect(sleeps).toHaveLength(3)
  })

  it('reports a network failure as status 0 after the last attempt', async () => {
    double.faults.set({ network: true })
    const err = await adapter({ retry: { attempts: 2, baseDelayMs: 1 } })
      .getCurrentUser()
      .catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 0, operation: 'getCurrentUser', transient: true, attempts: 2 })
  })

  it('logs each retry on the given pino logger', async () => {
    const lines: string[] = []
    const { pino } = await import('pino')
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) })
    double.faults.set({ status: 502, count: 1 })
    await adapter({ logger }).getIssue(w.repo, 1)
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ operation: 'getIssue', status: 502, attempt: 1 })
  })
})

describe('GiteaJsAdapter.listLabels paging safety', () => {
  const base = 'http://paging.test'
  const label = (id: number) => ({ id, name: `l${id}`, color: '000000', description: '', exclusive: false })
  const page = (from: number, n: number) => Array.from({ length: n }, (_, i) => label(from + i))
  const run = () =>
    new GiteaJsAdapter({ baseUrl: base, token: 't', retry: { attempts: 1 } }).listLabels({
      owner: 'o',
      name: 'r',
    })

  it('stops when a server ignores `page` and repeats the first page', async () => {
    let calls = 0
    server.resetHandlers(
      http.get(`${base}/api/v1/repos/o/r/labels`, () => {
        calls++
        return HttpResponse.json(page(1, 50))
      }),
    )
    expect(await run()).toHaveLength(50)
    expect(calls).toBe(2)
  })

  it('stops on an empty page', async () => {
    server.resetHandlers(
      http.get(`${base}/api/v1/repos/o/r/labels`, ({ request }) => {
        const p = Number(new URL(request.url).searchParams.get('page'))
        return HttpResponse.json(p <= 2 ? page((p - 1) * 50 + 1, 50) : [])
      }),
    )
    expect(await run()).toHaveLength(100)
  })

  it('stops at the hard cap when every page is new', async () => {
    let calls = 0
    server.resetHandlers(
      http.get(`${base}/api/v1/repos/o/r/labels`, () => {
        calls++
        return HttpResponse.json(page(calls * 1000, 50))
      }),
    )
    expect(await run()).toHaveLength(100 * 50)
    expect(calls).toBe(100)
  })

  it('pages past a server cap below the asked limit using X-Total-Count', async () => {
    const double = createGiteaDouble({ baseUrl: 'http://capped.test', maxResponseItems: 30 })
    const w = seedGiteaWorld(double)
    for (let i = 0; i < 67; i++) double.createLabel(w.repo, { name: `x${i}`, color: '112233' })
    server.resetHandlers(...giteaDoubleHandlers(double))
    const labels = await new GiteaJsAdapter({ baseUrl: double.baseUrl, token: w.tokens.bot }).listLabels(
      w.repo,
    )
    expect(labels).toHaveLength(70)
    double.assertContract()
  })
})

describe('retry policy helpers', () => {
  it.each([
    [null, undefined],
    ['', undefined],
    ['abc', undefined],
    ['0', 0],
    ['7', 7000],
  ])('parseRetryAfter(%s) = %s', (value, expected) => {
    expect(parseRetryAfter(value)).toBe(expected)
  })

  it('parses an HTTP date relative to now, never negative', () => {
    const now = Date.parse('2026-01-01T00:00:00Z')
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000)
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0)
  })

  it('full jitter stays under the exponential ceiling', () => {
    expect(backoffDelay(1, DEFAULT_RETRY_POLICY, () => 0.999)).toBeLessThan(300)
    expect(backoffDelay(3, DEFAULT_RETRY_POLICY, () => 0.999)).toBeLessThan(1200)
    expect(backoffDelay(3, DEFAULT_RETRY_POLICY, () => 0.999)).toBeGreaterThan(1100)
    expect(backoffDelay(20, DEFAULT_RETRY_POLICY, () => 0.999)).toBeLessThan(DEFAULT_RETRY_POLICY.maxDelayMs)
    expect(backoffDelay(2, DEFAULT_RETRY_POLICY, () => 0)).toBe(0)
  })
})

describe('retries over real HTTP', () => {
  it('retries a dropped TCP connection and a 500 against the double on a port', async () => {
    const running = await startGiteaDouble()
    try {
      const w = seedGiteaWorld(running.double)
      running.double.faults.add({ network: true, count: 1 })
      running.double.faults.add({ status: 500, count: 1 })
      const gitea = new GiteaJsAdapter({
        baseUrl: running.url,
        token: w.tokens.bot,
        retry: { baseDelayMs: 1 },
      })
      expect((await gitea.getCurrentUser()).login).toBe('gitea-bot')
      expect(running.double.requests.map((r) => r.status)).toEqual([502, 500, 200])
      running.double.assertContract()
    } finally {
      await running.stop()
    }
  })
})
