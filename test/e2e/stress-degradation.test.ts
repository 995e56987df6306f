import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Harness } from '../../src/harness/index.js'
import { KeyStore } from '../../src/provenance/key-store.js'
import { startRedisServer, type RedisServerHandle } from '../../src/queue/redis-server.js'
import { verifyResultComment } from '../../src/report/check-result-comment.js'
import type { StressMonitor } from '../../src/stress/index.js'
import { ackState, LoopWorld, until, type Person } from './loop-world.js'

/** Blocks this process's event loop, where the world's workers run, as a long synchronous step does. */
function blockEventLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/** Repeats a stress every `everyMs` until stopped: a sustained load, not one blip. */
function sustain(stress: () => void, everyMs: number): () => void {
  const timer = setInterval(stress, everyMs)
  stress()
  return () => clearInterval(timer)
}

const BOUNDS = {
  eventLoopLagMs: 200,
  queueWaitMs: 1_500,
  redisLatencyMs: 50,
  recoverAfterMs: 300,
  sampleMs: 50,
}

describe('INTELLIGENT jobs run as SIMPLE under real stress, and say so; SOVEREIGN never does', () => {
  let dir: string
  let server: RedisServerHandle
  let admin: Redis
  let world: LoopWorld
  let issue = 0
  let stress: StressMonitor

  beforeAll(async () => {
    // Its own redis-server: CLIENT PAUSE stops every client of it.
    dir = mkdtempSync(join(tmpdir(), 'uw-e2e-stress-'))
    server = await startRedisServer({ dir, appendOnly: false })
    admin = new Redis(server.url, { maxRetriesPerRequest: null })
    world = new LoopWorld({
      redisUrl: server.url,
      fileConfig: (c) => {
        const houses = c.houses as Record<string, Record<string, unknown>>
        const daemon = c.daemon as { workers: Record<string, unknown> }
        return {
          ...c,
          // One job at a time, so a second one waits in the queue behind a slow one.
          houses: {
            ...houses,
            ezra: { ...houses.ezra, concurrency: 1 },
            timmy: { ...houses.timmy, concurrency: 1 },
          },
          daemon: { ...(c.daemon as object), workers: { ...daemon.workers, stress: BOUNDS } },
        }
      },
    })
    await world.start()
    stress = world.services.loop!.stress!
    issue = await world.openIssue()
    await world.settle()
  }, 60_000)
  afterAll(async () => {
    await world?.stop()
    admin?.disconnect()
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  /** Posts a command; resolves to its job id once its ack comment exists. */
  async function post(body: string, who: Person = 'writer'): Promise<string> {
    const c = await world.comment(who, issue, body)
    const ack = await until(
      `the ack of ${body}`,
      () => world.botComments(issue).find((b) => b.id > c.id && ackState(b.body)),
      60_000,
    )
    return ackState(ack.body)!.jobId
  }

  /** Approves a SOVEREIGN job once it asks. */
  async function approve(jobId: string): Promise<void> {
    await until(
      `${jobId} awaiting approval`,
      () =>
        world.acks(issue, jobId).some((a) => a.body.includes('state=awaiting_approval')) ? true : undefined,
      60_000,
    )
    await world.comment('sovereign', issue, `/approve ${jobId}`)
  }

  /** The job's final ack comment (checked against its signed statement) and that statement's mode. */
  async function outcome(jobId: string) {
    const ack = await world.finalAck(issue, jobId, 60_000)
    const keys = new KeyStore(world.keyDir).publicKeys().map((k) => k.publicKey)
    const verified = verifyResultComment(ack.body, keys)
    if (!verified.ok)
      throw new Error(`${jobId}'s comment does not verify: ${verified.field}: ${verified.problem}`)
    const p = verified.statement.predicate
    return { body: ack.body, status: p.status, mode: p.mode, degraded: p.degraded }
  }

  /** What ezra has learned of git_status so far (the outcomes a prediction stands on). */
  async function learned(): Promise<number> {
    const h = new Harness({ house: 'ezra', redis: world.redis, redisPrefix: world.prefix })
    return (await h.predict('git_status', {})).samples
  }

  /** Waits until the house's stress has passed, as a worker would see it. */
  async function calm(house: string): Promise<void> {
    await until(`${house} calm`, () => (stress.degraded(house) === undefined ? true : undefined), 30_000)
  }

  /** Records every reason a house was degraded for, until stopped. */
  function watch(house: string): { seen: Set<string>; stop: () => void } {
    const seen = new Set<string>()
    const timer = setInterval(() => {
      const why = stress.degraded(house)
      if (why) seen.add(why)
    }, 10)
    return { seen, stop: () => clearInterval(timer) }
  }

  /** After the stress: ezra's next job runs INTELLIGENT again and learns from it. */
  async function recovers(): Promise<void> {
    await calm('ezra')
    const before = await learned()
    const back = await outcome(await post('/run git_status @ezra'))
    expect(back).toMatchObject({ status: 'success', mode: 'intelligent', degraded: undefined })
    expect(back.body).toContain('· mode INTELLIGENT ·')
    expect(await learned()).toBe(before + 1)
  }

  it('event-loop lag: ezra degrades (comment, statement, /houses, /metrics), timmy does not; then recovers', async () => {
    await calm('ezra')
    const before = await learned()
    const stop = sustain(() => blockEventLoop(300), 400)
    try {
      await until('event-loop lag seen', () => stress.degraded('ezra'), 30_000)
      const timmyJob = await post('/run git_status @timmy')
      const ezra = await outcome(await post('/run git_status @ezra'))
      expect(ezra).toMatchObject({ status: 'success', mode: 'simple' })
      expect(ezra.degraded).toMatchObject({ from: 'intelligent' })
      expect(ezra.degraded?.reason).toMatch(/^event-loop lag \d+ ms > 200 ms/)
      expect(ezra.body).toMatch(/· mode INTELLIGENT → SIMPLE \(degraded: event\\-loop lag \d+ ms \\> 200 ms/)
      expect(await learned()).toBe(before) // no learning write
      await approve(timmyJob)
      expect(await outcome(timmyJob)).toMatchObject({
        status: 'success',
        mode: 'sovereign',
        degraded: undefined,
      })

      const metrics = await (await fetch(`${world.services.httpUrl}/metrics`)).text()
      expect(metrics).toContain('uw_worker_degraded{house="ezra",signal="event_loop"} 1')
      expect(metrics).toContain('uw_worker_degraded{house="ezra",signal="queue_wait"} 0')
      const houses = await world.comment('writer', issue, '/houses')
      const reply = await until(
        'the /houses reply',
        () => world.botComments(issue).find((b) => b.id > houses.id && b.body.includes('| House |')),
        60_000,
      )
      expect(reply.body).toMatch(/\*\*ezra\*\*.*alive \(1 worker\), degraded to SIMPLE: event\\-loop lag/)
    } finally {
      stop()
    }
    await recovers()
  }, 180_000)

  it('Redis latency (CLIENT PAUSE, as in a failover): ezra degrades, timmy does not; then recovers', async () => {
    await calm('ezra')
    const before = await learned()
    const stop = sustain(() => void admin.client('PAUSE', 200, 'ALL').catch(() => undefined), 300)
    try {
      await until('Redis latency seen', () => stress.degraded('ezra'), 30_000)
      const timmyJob = await post('/run git_status @timmy')
      const ezra = await outcome(await post('/run git_status @ezra'))
      expect(ezra).toMatchObject({ status: 'success', mode: 'simple' })
      expect(ezra.degraded?.reason).toMatch(/Redis latency \d+ ms > 50 ms/)
      expect(await learned()).toBe(before)
      await approve(timmyJob)
      expect(await outcome(timmyJob)).toMatchObject({
        status: 'success',
        mode: 'sovereign',
        degraded: undefined,
      })
    } finally {
      stop()
    }
    await recovers()
  }, 180_000)

  it('queue wait (a job behind a slow one): the waiting ezra job degrades, the one that did not wait does not; timmy never', async () => {
    await calm('ezra')
    const before = await learned()
    const slow = await post('/run slow seconds=4 @ezra')
    const waiting = await post('/run git_status @ezra')
    const first = await outcome(slow)
    expect(first).toMatchObject({ status: 'success', mode: 'intelligent', degraded: undefined })
    const second = await outcome(waiting)
    expect(second).toMatchObject({ status: 'success', mode: 'simple' })
    expect(second.degraded?.reason).toMatch(/^queue wait \d+(\.\d)? s > 1\.5 s$/)
    expect(await learned()).toBe(before)

    // The same backlog on timmy: the house is degraded while its second job runs, the job is not.
    await calm('timmy')
    const watching = watch('timmy')
    try {
      const slowT = await post('/run slow seconds=4 @timmy')
      const waitingT = await post('/run git_status @timmy')
      await approve(slowT)
      await approve(waitingT)
      expect(await outcome(slowT)).toMatchObject({ status: 'success', mode: 'sovereign' })
      expect(await outcome(waitingT)).toMatchObject({
        status: 'success',
        mode: 'sovereign',
        degraded: undefined,
      })
    } finally {
      watching.stop()
    }
    expect([...watching.seen].some((why) => why.startsWith('queue wait'))).toBe(true)
    await recovers()
  }, 180_000)
})
