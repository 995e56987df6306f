import { Redis } from 'ioredis'
import { pino } from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { createRedactor } from '../../src/harness/redactor.js'
import {
  newestTelemetryId,
  readTelemetry,
  RedisTelemetry,
  telemetryStreamKey,
  type TelemetryRetention,
} from '../../src/telemetry/index.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

const log = pino({ level: 'silent' })
const TOKEN = 'a3f9c2d18e7b6a5c4d3e2f1a0b9c8d7e6f5a4b3c'
const retention: TelemetryRetention = { maxEvents: 100_000, maxAgeHours: 24, onceTtlSeconds: 3600 }

const queued = (jobId: string) =>
  ({
    type: 'job.queued',
    jobId,
    run: 1,
    house: 'ezra',
    tool: 'git_status',
    mode: 'SIMPLE',
    requester: 'alice',
  }) as const

describe('RedisTelemetry', () => {
  const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 })
  const prefixes: string[] = []
  const sink = (r: Partial<TelemetryRetention> = {}) => {
    const prefix = uniquePrefix()
    prefixes.push(prefix)
    const telemetry = new RedisTelemetry({
      redis,
      prefix,
      retention: { ...retention, ...r },
      redact: createRedactor([TOKEN]),
      log,
    })
    return { prefix, telemetry }
  }
  afterAll(async () => {
    for (const p of prefixes) await cleanupPrefix(p)
    redis.disconnect()
  })

  it('appends events in order with Redis ids that only grow, read back as they were', async () => {
    const { prefix, telemetry } = sink()
    for (let i = 0; i < 20; i++) await telemetry.emit(queued(`j${i}`))
    const page = await readTelemetry(redis, prefix, '0')
    expect(page.events.map((e) => 'jobId' in e && e.jobId)).toEqual(
      Array.from({ length: 20 }, (_, i) => `j${i}`),
    )
    const ids = page.events.map((e) => e.id)
    expect([...ids].sort((a, b) => cmp(a, b))).toEqual(ids)
    expect(new Set(ids).size).toBe(20)
    expect(page.events[0]).toMatchObject({ ...queued('j0'), at: expect.any(String) })
    expect(page.cursor).toBe(ids[19])
    expect(await newestTelemetryId(redis, prefix)).toBe(ids[19])
  })

  it('appends a step once, however often it is emitted (concurrently too)', async () => {
    const { prefix, telemetry } = sink()
    await Promise.all([1, 2, 3, 4, 5].map(() => telemetry.emit(queued('j1'), 'j1.1.queued')))
    await telemetry.emit(queued('j1'), 'j1.1.queued')
    await telemetry.emit(queued('j2'), 'j2.1.queued')
    expect(await redis.xlen(telemetryStreamKey(prefix))).toBe(2)
  })

  it('keeps about maxEvents events', async () => {
    const { prefix, telemetry } = sink({ maxEvents: 100 })
    for (let i = 0; i < 1000; i++) await telemetry.emit(queued(`j${i}`))
    const len = await redis.xlen(telemetryStreamKey(prefix))
    // Approximate trimming drops whole nodes of 100 entries: between 100 and 200 stay.
    expect(len).toBeGreaterThanOrEqual(100)
    expect(len).toBeLessThan(200)
    const page = await readTelemetry(redis, prefix, '0', { count: 1000 })
    expect(page.events.at(-1)).toMatchObject({ jobId: 'j999' })
  })

  it('drops events older than maxAgeHours at the next append', async () => {
    const { prefix, telemetry } = sink({ maxAgeHours: 1 })
    const key = telemetryStreamKey(prefix)
    // 200 events two hours old (explicit ids in the past), then a new one.
    const old = Date.now() - 2 * 3600_000
    for (let i = 0; i < 200; i++) await redis.xadd(key, `${old}-${i}`, 'type', 'x', 'data', '{}')
    await telemetry.emit(queued('new'))
    const page = await readTelemetry(redis, prefix, '0')
    expect(await redis.xlen(key)).toBe(1)
    expect(page.events.map((e) => 'jobId' in e && e.jobId)).toEqual(['new'])
  })

  it('redacts secrets and cuts free text before it is stored', async () => {
    const { prefix, telemetry } = sink()
    await telemetry.emit({
      type: 'agent.message',
      jobId: 'j1',
      run: 1,
      house: 'ezra',
      tool: 'ask',
      seq: 0,
      chars: 500,
      summary: `the token is ${TOKEN}`,
      final: true,
    })
    await telemetry.emit({
      type: 'job.finished',
      jobId: 'j1',
      run: 1,
      house: 'ezra',
      tool: 'ask',
      state: 'failure',
      durationMs: 3,
      reason: `push to https://bot:${TOKEN}@gitea/x.git failed ${'x'.repeat(400)}`,
    })
    const raw = JSON.stringify(await redis.xrange(telemetryStreamKey(prefix), '-', '+'))
    expect(raw).not.toContain(TOKEN)
    expect(raw).not.toContain(TOKEN.slice(0, 16))
    const page = await readTelemetry(redis, prefix, '0')
    expect(page.events[0]).toMatchObject({ summary: 'the token is [redacted]' })
    expect(page.events[1]).toMatchObject({
      reason: expect.stringMatching(/^push to https:\/\/bot:\[redacted\]@/),
    })
    expect((page.events[1] as { reason: string }).reason.length).toBe(200)
  })

  it('a write that fails is logged, never thrown', async () => {
    const dead = new Redis('redis://127.0.0.1:1', {
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      enableOfflineQueue: false,
    })
    const warnings: unknown[] = []
    const telemetry = new RedisTelemetry({
      redis: dead,
      prefix: uniquePrefix(),
      retention,
      redact: (s) => s,
      log: { warn: (o: unknown) => warnings.push(o) } as never,
    })
    await expect(telemetry.emit(queued('j1'))).resolves.toBeUndefined()
    expect(warnings).toHaveLength(1)
    dead.disconnect()
  })
})

function cmp(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt)
  const [bm, bs] = b.split('-').map(BigInt)
  return am! === bm! ? Number(as! - bs!) : Number(am! - bm!)
}
