import { Writable } from 'node:stream'
import { Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { slashCommands } from '../../handlers/slash-commands.js'
import {
  MemoryEffectLedger,
  POST_LEASE_MS,
  RedisEffectLedger,
  type EffectLedger,
} from '../../src/effects/effect-ledger.js'
import type { Effect } from '../../src/effects/effects.js'
import { EffectsError, Executor, keyMarker } from '../../src/effects/executor.js'
import { createLogger } from '../../src/logger.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'
import { FakeGiteaError, FakePort } from '../commands/helpers/fake-port.js'
import { GITEA_REQUEST_TIMEOUT_MS } from '../../src/gitea/gitea-js-adapter.js'
import { DEFAULT_RETRY_POLICY } from '../../src/gitea/retry-policy.js'
import { commentEvent, REPO, world } from '../commands/helpers/world.js'

function captureLog() {
  const lines: Record<string, unknown>[] = []
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l))
      done()
    },
  })
  return { log: createLogger({ level: 'debug', destination }), lines }
}

async function runCommand(body: string, ledger: EffectLedger, opts: { dryRun?: boolean } = {}) {
  const w = world({ issueLabels: ['house/ezra'] })
  const event = commentEvent(body)
  const effects = await slashCommands.handle(event, w.ctx(event))
  const { log, lines } = captureLog()
  const executor = new Executor({ port: w.port, jobs: w.jobs, ledger, log, dryRun: opts.dryRun })
  return { w, effects, executor, lines }
}

describe('Executor', () => {
  it('applies a /run: reaction, one ack comment with its key marker, one job carrying the ack id', async () => {
    const { w, effects, executor } = await runCommand('/run git_status @bezalel', new MemoryEffectLedger())
    const applied = await executor.apply(effects)
    expect(applied.map((a) => a.outcome)).toEqual(['done', 'done', 'done'])
    expect(w.port.reactions).toEqual(new Set(['comment:77:eyes']))
    expect(w.port.comments).toHaveLength(1)
    expect(w.port.comments[0]?.body).toContain(keyMarker('c:d-1:77:ack_0'))
    expect(w.jobs.enqueued).toHaveLength(1)
    expect(w.jobs.enqueued[0]?.ackCommentId).toBe(w.port.comments[0]?.id)
  })

  it('applying the same effects twice duplicates nothing', async () => {
    const { w, effects, executor } = await runCommand(
      '/run git_status @bezalel\n/assign @bezalel',
      new MemoryEffectLedger(),
    )
    await executor.apply(effects)
    const second = await executor.apply(effects)
    expect(w.port.comments).toHaveLength(2)
    expect(w.jobs.enqueued).toHaveLength(1)
    expect(w.port.issues.get(1)?.labels.map((l) => l.name)).toEqual(['house/bezalel'])
    expect(second.find((a) => a.effect.type === 'comment')?.outcome).toBe('already')
    expect(
      second
        .filter((a) => a.effect.type === 'addLabels' || a.effect.type === 'removeLabels')
        .map((a) => a.outcome),
    ).toEqual(['already', 'already'])
    expect(w.port.calls.filter((c) => c === 'addIssueLabels' || c === 'removeIssueLabel')).toHaveLength(2)
  })

  it('after a crash between posting and recording, finds the comment by its marker instead of posting again', async () => {
    const ledger = new MemoryEffectLedger()
    const { w, effects, executor } = await runCommand('/status', ledger)
    await executor.apply(effects)
    const key = 'c:d-1:77:status_0'
    ledger.entries.set(key, 'pending') // as if the process died right after createComment
    await executor.apply(effects)
    expect(w.port.comments).toHaveLength(1)
    expect(await ledger.get(key)).toEqual({ state: 'posted', commentId: w.port.comments[0]?.id })
  })

  it('after a crash mid-post, a marker planted in a comment by someone else is not taken for the bot comment', async () => {
    const ledger = new MemoryEffectLedger()
    const w = world({ issueLabels: ['house/ezra'] })
    const event = commentEvent('/status')
    const effects = await slashCommands.handle(event, w.ctx(event))
    const executor = new Executor({
      port: w.port,
      jobs: w.jobs,
      ledger,
      log: captureLog().log,
      botLogin: 'uw-bot',
    })
    const key = 'c:d-1:77:status_0'
    // mallory predicted the key and wrote its marker first; then the bot "crashed" mid-post
    w.port.comments.push({
      id: 900,
      issue: 1,
      body: `looks like a reply\n\n${keyMarker(key)}`,
      user: { id: 66, login: 'mallory' },
      htmlUrl: 'http://gitea/o/r/issues/1#c900',
      createdAt: 'now',
      updatedAt: 'now',
    })
    ledger.entries.set(key, 'pending')
    await executor.apply(effects)
    const mine = w.port.comments.filter((c) => c.user.login === 'uw-bot')
    expect(mine).toHaveLength(1)
    expect(await ledger.get(key)).toEqual({ state: 'posted', commentId: mine[0]?.id })
  })

  it('a failing effect is thrown with the record of the others; the retry completes without duplicates', async () => {
    const ledger = new MemoryEffectLedger()
    const { w, effects, executor } = await runCommand('/status\n/run git_status @bezalel', ledger)
    // status reply fails once with a 502; the ack and the job are independent of it
    w.port.failNext('createComment', new FakeGiteaError(502, 'createComment'))
    const err = await executor.apply(effects).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(EffectsError)
    const e = err as EffectsError
    expect(e.transient).toBe(true)
    expect(e.failures.map((f) => f.effect.type)).toEqual(['comment'])
    expect(e.applied.map((a) => a.effect.type)).toEqual(['react', 'comment', 'enqueueJob'])
    expect(w.port.comments).toHaveLength(1)
    await executor.apply(effects)
    expect(w.port.comments).toHaveLength(2)
    expect(w.jobs.enqueued).toHaveLength(1)
  })

  it('does not enqueue a job whose ack comment failed, and enqueues it on retry with the ack id', async () => {
    const { w, effects, executor } = await runCommand('/run git_status @bezalel', new MemoryEffectLedger())
    w.port.failNext('createComment', new FakeGiteaError(500, 'createComment'))
    const err = (await executor.apply(effects).catch((e: unknown) => e)) as EffectsError
    expect(err.failures.map((f) => f.effect.type)).toEqual(['comment', 'enqueueJob'])
    expect(w.jobs.enqueued).toHaveLength(0)
    await executor.apply(effects)
    expect(w.jobs.enqueued[0]?.ackCommentId).toBe(w.port.comments[0]?.id)
  })

  it('with waitReplicas, posts a comment only once its claim is on a replica; a lost claim posts nothing and is retried', async () => {
    const ledger = new MemoryEffectLedger()
    const w = world({ issueLabels: ['house/ezra'] })
    const event = commentEvent('/status')
    const effects = await slashCommands.handle(event, w.ctx(event))
    const answers = [false, true]
    const asked: number[] = []
    const executor = new Executor({
      port: w.port,
      jobs: w.jobs,
      ledger,
      log: captureLog().log,
      replicas: {
        confirm: async (since: number) => {
          asked.push(since)
          return answers.shift() ?? true
        },
      },
    })
    const key = 'c:d-1:77:status_0'
    const err = (await executor.apply(effects).catch((e: unknown) => e)) as EffectsError
    expect(err.transient).toBe(true)
    expect(err.message).toMatch(/did not reach a replica/)
    expect(w.port.comments).toHaveLength(0)
    expect(ledger.entries.get(key)).toBe('pending') // released: the retry need not wait the lease
    await executor.apply(effects)
    expect(w.port.comments).toHaveLength(1)
    expect(asked).toHaveLength(2)
    expect(await ledger.get(key)).toEqual({ state: 'posted', commentId: w.port.comments[0]?.id })
  })

  it('reports a permanent failure as not transient', async () => {
    const { w, effects, executor } = await runCommand('/status', new MemoryEffectLedger())
    w.port.failNext('addCommentReaction', new FakeGiteaError(404, 'addCommentReaction'))
    const err = (await executor.apply(effects).catch((e: unknown) => e)) as EffectsError
    expect(err.transient).toBe(false)
    expect(w.port.comments).toHaveLength(1)
  })

  it('dry run logs the effects and applies none', async () => {
    const { w, effects, executor, lines } = await runCommand(
      '/run git_status @bezalel',
      new MemoryEffectLedger(),
      {
        dryRun: true,
      },
    )
    const before = w.port.calls.length
    const applied = await executor.apply(effects)
    expect(applied.map((a) => a.outcome)).toEqual(['logged', 'logged', 'logged'])
    expect(w.port.calls.slice(before)).toEqual([])
    expect(w.port.comments).toHaveLength(0)
    expect(w.jobs.enqueued).toHaveLength(0)
    expect(
      lines.filter((l) => l.msg === 'dry run: effect not applied').map((l) => (l.effect as Effect).type),
    ).toEqual(['react', 'comment', 'enqueueJob'])
  })

  it('edits a comment by its key, keeping the marker, and resolves labels by name', async () => {
    const ledger = new MemoryEffectLedger()
    const { w, executor, lines } = await runCommand('/status', ledger)
    await executor.apply([
      { type: 'comment', repo: REPO, issue: 1, key: 'k1', body: 'first' },
      { type: 'editComment', repo: REPO, target: { key: 'k1' }, body: 'second' },
      { type: 'addLabels', repo: REPO, issue: 1, labels: ['kind/bug', 'no-such-label'] },
      { type: 'setCommitStatus', repo: REPO, sha: 'abc', state: 'success', context: 'uni-wizard' },
      { type: 'log', level: 'info', message: 'hello', data: { x: 1 } },
    ])
    expect(w.port.comments[0]?.body).toBe(`second\n\n${keyMarker('k1')}`)
    expect(w.port.issues.get(1)?.labels.map((l) => l.name)).toEqual(['house/ezra', 'kind/bug'])
    expect(w.port.statuses).toEqual([{ sha: 'abc', state: 'success', context: 'uni-wizard' }])
    expect(lines.some((l) => l.msg === 'hello' && l.x === 1)).toBe(true)
    expect(lines.some((l) => l.msg?.toString().includes('do not exist'))).toBe(true)
    const err = (await executor
      .apply([{ type: 'editComment', repo: REPO, target: { key: 'never-posted' }, body: 'x' }])
      .catch((e: unknown) => e)) as EffectsError
    expect(err.transient).toBe(false)
  })
})

describe('RedisEffectLedger against real Redis', () => {
  const prefix = uniquePrefix()
  const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 })
  afterEach(() => cleanupPrefix(prefix))
  afterAll(() => redis.quit())

  it('applying twice against the Redis ledger gives one comment and one job', async () => {
    const ledger = new RedisEffectLedger(redis, prefix, 60)
    const { w, effects, executor } = await runCommand('/run git_status @bezalel', ledger)
    await executor.apply(effects)
    // A second executor (another router process) with the same Redis: still nothing duplicated.
    await new Executor({
      port: w.port,
      jobs: w.jobs,
      ledger: new RedisEffectLedger(redis, prefix, 60),
      log: captureLog().log,
    }).apply(effects)
    expect(w.port.comments).toHaveLength(1)
    expect(w.jobs.enqueued).toHaveLength(1)
    const key = `${prefix}:ledger:c:d-1:77:ack_0`
    expect(await redis.get(key)).toBe(String(w.port.comments[0]?.id))
    const ttl = await redis.ttl(key)
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(60)
  })

  it('two handlers of the same event at once post its comment once; the second finds it when retried', async () => {
    // A router took the event over (its first holder's lock expired in a failover or a stall)
    // while the first still runs it: both apply the same effects at the same moment.
    const { w, effects } = await runCommand('/run git_status @bezalel', new MemoryEffectLedger())
    const post = w.port.createComment.bind(w.port)
    w.port.createComment = async (...args: Parameters<typeof post>) => {
      await new Promise((r) => setTimeout(r, 100))
      return post(...args)
    }
    const executor = () =>
      new Executor({
        port: w.port,
        jobs: w.jobs,
        ledger: new RedisEffectLedger(redis, prefix, 60),
        log: captureLog().log,
      })
    const [first, second] = await Promise.allSettled([executor().apply(effects), executor().apply(effects)])
    const refused = [first, second].filter((r) => r.status === 'rejected')
    expect(refused).toHaveLength(1)
    const err = (refused[0] as PromiseRejectedResult).reason as EffectsError
    expect(err.transient).toBe(true)
    expect(err.message).toMatch(/being posted by another handler/)
    expect(w.port.comments).toHaveLength(1)
    // BullMQ retries the refused one: it finds the comment and enqueues nothing twice.
    const retried = await executor().apply(effects)
    expect(retried.find((a) => a.effect.type === 'comment')).toMatchObject({
      outcome: 'already',
      commentId: w.port.comments[0]?.id,
    })
    expect(w.port.comments).toHaveLength(1)
    expect(w.jobs.enqueued).toHaveLength(1)
  })

  // The same claim rules, in Lua on the Redis clock and in memory on an injected one.
  async function claimRules(
    ledger: EffectLedger,
    setRaw: (key: string, raw: string) => Promise<void>,
    now: number,
  ) {
    expect(await ledger.claimPost('k', 'a')).toBe('fresh')
    expect(await ledger.claimPost('k', 'b')).toBe(false)
    expect(await ledger.claimPost('k', 'a')).toBe('fresh') // its own: renewed
    await ledger.releasePost('k', 'b') // not b's to release
    expect(await ledger.claimPost('k', 'b')).toBe(false)
    await ledger.releasePost('k', 'a')
    expect(await ledger.get('k')).toEqual({ state: 'pending' })
    expect(await ledger.claimPost('k', 'b')).toBe('reclaimed') // b must look for a's marker first
    // A holder that died mid-post: its lease runs out.
    await setRaw('k2', `pending:ghost:${now - POST_LEASE_MS - 1000}`)
    expect(await ledger.claimPost('k2', 'b')).toBe('reclaimed')
    await setRaw('k3', `pending:ghost:${now}`)
    expect(await ledger.claimPost('k3', 'b')).toBe(false)
    // A mark written before claims had owners, and a non-comment effect's mark.
    await setRaw('k4', 'pending')
    expect(await ledger.claimPost('k4', 'b')).toBe('reclaimed')
    await setRaw('k5', 'done')
    expect(await ledger.claimPost('k5', 'b')).toBe(false)
    expect(await ledger.get('k5')).toEqual({ state: 'done' })
  }

  it('a post is held by its poster until it is released or its lease (Redis clock) runs out', async () => {
    const sec = Number((await redis.time())[0])
    await claimRules(
      new RedisEffectLedger(redis, prefix, 60),
      async (key, raw) => void (await redis.set(`${prefix}:ledger:${key}`, raw)),
      sec * 1000,
    )
  })

  it('the memory ledger holds posts the same way', async () => {
    const now = 1_000_000_000
    const ledger = new MemoryEffectLedger(() => now)
    await claimRules(ledger, async (key, raw) => void ledger.entries.set(key, raw), now)
  })

  it('the lease outlasts the longest comment post the Gitea adapter can make', () => {
    const p = DEFAULT_RETRY_POLICY
    const longest =
      p.attempts * GITEA_REQUEST_TIMEOUT_MS + (p.attempts - 1) * (p.maxRetryAfterMs + p.maxDelayMs)
    expect(longest).toBe(234_000)
    expect(POST_LEASE_MS).toBeGreaterThan(2 * longest)
  })

  it('a poster that looked for the marker before the holder released does not post a second comment', async () => {
    // Found by review: H1's post reaches Gitea but its answer is lost (a 502), so it releases its
    // claim; H2, a router that took the event over, had looked for the marker just before.
    const ledger = new RedisEffectLedger(redis, prefix, 60)
    const gitea = new FakePort()
    gitea.addIssue(1)
    const effect: Effect = { type: 'comment', repo: REPO, issue: 1, key: 'c:d1:77:ack_0', body: 'ack' }
    const gate = () => {
      let open!: () => void
      const p = new Promise<void>((r) => (open = r))
      return { p, open }
    }
    const tick = () => new Promise((r) => setTimeout(r, 10))
    const g1 = gate()
    const h1Port = Object.create(gitea) as FakePort
    h1Port.createComment = async (...a: Parameters<FakePort['createComment']>) => {
      await g1.p
      await gitea.createComment(...a)
      throw new FakeGiteaError(502, 'createComment')
    }
    const g2 = gate()
    let h2Listing = false
    const h2Port = Object.create(gitea) as FakePort
    h2Port.listComments = async (...a: Parameters<FakePort['listComments']>) => {
      const snapshot = [...(await gitea.listComments(...a))]
      h2Listing = true
      await g2.p
      return snapshot
    }
    const executor = (port: FakePort) =>
      new Executor({ port, jobs: {} as never, ledger, log: captureLog().log, labelCatalogue: false })
    const p1 = executor(h1Port)
      .apply([effect])
      .catch((e: unknown) => e)
    await tick() // H1 holds the claim, its post in flight
    const p2 = executor(h2Port)
      .apply([effect])
      .catch((e: unknown) => e)
    while (!h2Listing) await tick()
    g1.open()
    expect(await p1).toBeInstanceOf(EffectsError) // its comment is in Gitea; it released the claim
    g2.open()
    await p2
    expect(gitea.comments.filter((c) => c.body.endsWith(keyMarker(effect.key)))).toHaveLength(1)
    expect(await ledger.get(effect.key)).toEqual({ state: 'posted', commentId: gitea.comments[0]?.id })
  })

  it('a claim never overwrites a posted id', async () => {
    const ledger = new RedisEffectLedger(redis, prefix, 60)
    await ledger.set('k', 42)
    expect(await ledger.claimPost('k', 'a')).toBe(false)
    expect(await ledger.get('k')).toEqual({ state: 'posted', commentId: 42 })
    expect(await ledger.claimPost('k2', 'a')).toBe('fresh')
    expect(await ledger.get('k2')).toEqual({ state: 'pending' })
    expect(await ledger.get('k3')).toBeUndefined()
  })
})
