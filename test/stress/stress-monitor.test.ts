import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRedis, type RedisClient } from '../../src/queue/connection.js'
import { startRedisServer, type RedisServerHandle } from '../../src/queue/redis-server.js'
import { registerStressMetrics } from '../../src/metrics/index.js'
import { Hysteresis, StressConfig, StressMonitor } from '../../src/stress/index.js'

/** Blocks this process's event loop, as a long synchronous step (a huge JSON.parse, a regex) does. */
function blockEventLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

async function until<T>(what: string, probe: () => T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = probe()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await delay(10)
  }
}

describe('Hysteresis', () => {
  const limits = { bound: 100, recoverRatio: 0.8, recoverAfterMs: 1_000 }
  it.each([
    { name: 'stays off at the bound', steps: [[100, 0]], on: false },
    { name: 'turns on past the bound', steps: [[101, 0]], on: true },
    {
      name: 'stays on between the bars, however long',
      steps: [
        [150, 0],
        [90, 500],
        [85, 5_000],
      ],
      on: true,
    },
    {
      name: 'stays on under the low bar until it was quiet long enough',
      steps: [
        [150, 0],
        [50, 999],
      ],
      on: true,
    },
    {
      name: 'turns off after the quiet time under the low bar',
      steps: [
        [150, 0],
        [50, 1_000],
      ],
      on: false,
    },
    {
      name: 'a value between the bars restarts the quiet time (no flapping)',
      steps: [
        [150, 0],
        [50, 900],
        [90, 1_000],
        [50, 1_500],
      ],
      on: true,
    },
    {
      name: 'a second spike after recovery turns it on again',
      steps: [
        [150, 0],
        [10, 2_000],
        [120, 2_100],
      ],
      on: true,
    },
  ])('$name', ({ steps, on }) => {
    const h = new Hysteresis(limits)
    for (const [value, at] of steps) h.update(value as number, at as number)
    expect(h.on).toBe(on)
  })

  it('remembers the value that last passed the bound', () => {
    const h = new Hysteresis(limits)
    h.update(240, 0)
    h.update(90, 10)
    expect(h).toMatchObject({ on: true, value: 90, peak: 240 })
  })
})

describe('StressMonitor', () => {
  const config = (over: Partial<StressConfig>) =>
    StressConfig.parse({ recoverAfterMs: 200, sampleMs: 50, ...over })

  it('turns on under a blocked event loop, for every house, and off once it runs freely again', async () => {
    const m = new StressMonitor({ config: config({ eventLoopLagMs: 100 }) }).start()
    try {
      m.house('ezra')
      m.house('timmy')
      await delay(120)
      expect(m.degraded('ezra')).toBeUndefined()
      blockEventLoop(300)
      await delay(20)
      const why = m.degraded('ezra')
      expect(why).toMatch(/^event-loop lag \d+ ms > 100 ms$/)
      expect(Number(/lag (\d+)/.exec(why!)?.[1])).toBeGreaterThanOrEqual(200)
      expect(m.degraded('timmy')).toBe(why)
      await until('recovery', () => (m.degraded('ezra') === undefined ? true : undefined))
    } finally {
      m.stop()
    }
  })

  it('turns on for the house whose job waited too long in its queue, and only for it', async () => {
    const m = new StressMonitor({ config: config({ queueWaitMs: 1_000 }) })
    const ezra = m.house('ezra')
    const timmy = m.house('timmy')
    ezra.observeQueueWait(2_500)
    timmy.observeQueueWait(900)
    expect(ezra.degraded()).toBe('queue wait 2.5 s > 1 s')
    expect(timmy.degraded()).toBeUndefined()
    // A short wait right after does not end it; one after the quiet time does.
    ezra.observeQueueWait(10)
    expect(ezra.degraded()).toBe('queue wait 2.5 s > 1 s')
    await delay(250)
    ezra.observeQueueWait(10)
    expect(ezra.degraded()).toBeUndefined()
  })

  it('exports each signal per house as uw_worker_degraded and uw_worker_stress_ms', async () => {
    const m = new StressMonitor({ config: config({ queueWaitMs: 1_000 }) })
    const registry = new Registry()
    registerStressMetrics(registry, m)
    m.house('ezra').observeQueueWait(2_500)
    m.house('timmy')
    const text = await registry.metrics()
    expect(text).toContain('uw_worker_degraded{house="ezra",signal="queue_wait"} 1')
    expect(text).toContain('uw_worker_degraded{house="ezra",signal="event_loop"} 0')
    expect(text).toContain('uw_worker_degraded{house="timmy",signal="queue_wait"} 0')
    expect(text).toContain('uw_worker_degraded{house="timmy",signal="redis_latency"} 0')
    expect(text).toContain('uw_worker_stress_ms{house="ezra",signal="queue_wait"} 2500')
  })
})

describe('StressMonitor on a real Redis', () => {
  let dir: string
  let server: RedisServerHandle
  let redis: RedisClient
  let admin: RedisClient
  beforeAll(async () => {
    // Its own redis-server: CLIENT PAUSE stops every client of the server.
    dir = mkdtempSync(join(tmpdir(), 'uw-stress-redis-'))
    server = await startRedisServer({ dir, appendOnly: false })
    redis = createRedis(server.url, 'worker')
    admin = createRedis(server.url, 'producer')
  })
  afterAll(async () => {
    redis.disconnect()
    admin.disconnect()
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('turns on while Redis does not answer (CLIENT PAUSE, as in a failover), and off once it does', async () => {
    const m = new StressMonitor({ config: config({ redisLatencyMs: 100 }), redis }).start()
    try {
      const ezra = m.house('ezra')
      await delay(150)
      expect(ezra.degraded()).toBeUndefined()
      await admin.client('PAUSE', 600, 'ALL')
      const why = await until('Redis latency', () => ezra.degraded())
      expect(why).toMatch(/^Redis latency \d+ ms > 100 ms$/)
      expect(m.readings('ezra').find((r) => r.signal === 'redis_latency')).toMatchObject({ on: true })
      await until('recovery', () => (ezra.degraded() === undefined ? true : undefined))
      expect(m.readings('ezra').find((r) => r.signal === 'redis_latency')?.valueMs).toBeLessThan(80)
    } finally {
      m.stop()
    }
  })

  function config(over: Partial<StressConfig>): StressConfig {
    return StressConfig.parse({ recoverAfterMs: 200, sampleMs: 50, ...over })
  }
})
