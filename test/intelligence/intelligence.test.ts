import { Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { Harness, House, Mode } from '../../src/harness/index.js'
import {
  adaptiveTimeout,
  betaCdf,
  betaQuantile,
  MemoryPatternStore,
  predictFrom,
  RedisPatternStore,
} from '../../src/intelligence/index.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'
import { echo, failing } from '../harness/test-tools.js'

const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 })
const prefixes: string[] = []
afterEach(async () => {
  await Promise.all(prefixes.splice(0).map((p) => cleanupPrefix(p)))
})
afterAll(() => redis.disconnect())

describe('Beta posterior', () => {
  it('matches known values', () => {
    expect(betaCdf(0.5, 2, 2)).toBeCloseTo(0.5, 10)
    expect(betaCdf(0.3, 1, 1)).toBeCloseTo(0.3, 10)
    // Beta(2, 5) CDF at 0.2 = 0.34464
    expect(betaCdf(0.2, 2, 5)).toBeCloseTo(0.34464, 5)
    expect(betaQuantile(0.5, 2, 2)).toBeCloseTo(0.5, 8)
    expect(betaQuantile(0.95, 1, 1)).toBeCloseTo(0.95, 8)
  })

  it('predicts with a uniform prior and narrows with data', () => {
    const none = predictFrom([])
    expect(none).toMatchObject({ successProbability: 0.5, samples: 0, expectedDurationMs: undefined })
    const many = predictFrom(Array.from({ length: 40 }, (_, i) => ({ ok: i % 10 !== 0, durationMs: 10 + i })))
    expect(many.successProbability).toBeCloseTo(37 / 42, 10)
    expect(many.interval[0]).toBeLessThan(many.successProbability)
    expect(many.interval[1]).toBeGreaterThan(many.successProbability)
    expect(many.interval[1] - many.interval[0]).toBeLessThan(none.interval[1] - none.interval[0])
    expect(many.expectedDurationMs).toBe(29)
    expect(many.p95DurationMs).toBe(47)
  })

  it('sets an adaptive timeout only from 10 samples, 1.5 × p95, clamped', () => {
    const nine = predictFrom(Array.from({ length: 9 }, () => ({ ok: true, durationMs: 2_000 })))
    expect(adaptiveTimeout(nine, 30_000)).toBeUndefined()
    const ten = predictFrom(Array.from({ length: 10 }, () => ({ ok: true, durationMs: 2_000 })))
    expect(adaptiveTimeout(ten, 30_000)).toBe(3_000)
    expect(adaptiveTimeout(ten, 2_500)).toBe(2_500)
    const fast = predictFrom(Array.from({ length: 10 }, () => ({ ok: true, durationMs: 1 })))
    expect(adaptiveTimeout(fast, 30_000)).toBe(1_000)
  })
})

describe.each([
  { name: 'memory', make: () => new MemoryPatternStore() },
  {
    name: 'redis',
    make: () => {
      const p = uniquePrefix()
      prefixes.push(p)
      return new RedisPatternStore(redis, p)
    },
  },
])('$name pattern store', ({ make }) => {
  it('keeps outcomes per tool × house, newest first', async () => {
    const s = make()
    await s.record('ezra', 't', { ok: true, durationMs: 5 })
    await s.record('ezra', 't', { ok: false, durationMs: 7.5 })
    await s.record('bezalel', 't', { ok: true, durationMs: 1 })
    expect(await s.recent('ezra', 't')).toEqual([
      { ok: false, durationMs: 7.5 },
      { ok: true, durationMs: 5 },
    ])
  })
})

describe('INTELLIGENT mode in the harness', () => {
  it('learns outcomes and shows a prediction before later runs; SIMPLE learns nothing', async () => {
    const prefix = uniquePrefix()
    prefixes.push(prefix)
    const h = new Harness({
      house: House.EZRA,
      mode: Mode.INTELLIGENT,
      tools: [echo, failing],
      redis,
      redisPrefix: prefix,
    })
    const first = await h.execute('echo', {}, { requestedBy: 'b' })
    expect(first.prediction?.samples).toBe(0)
    for (let i = 0; i < 3; i++) await h.execute('echo', {}, { requestedBy: 'b' })
    await h.execute('always_fails', {}, { requestedBy: 'b' })
    const p = await h.predict('echo', {})
    expect(p.samples).toBe(4)
    expect(p.successProbability).toBeCloseTo(5 / 6, 10)
    expect((await h.predict('always_fails', {})).successProbability).toBeCloseTo(1 / 3, 10)
    // Shared through Redis: a second worker of the house sees the same history.
    const other = new Harness({
      house: House.EZRA,
      mode: Mode.SIMPLE,
      tools: [echo],
      redis,
      redisPrefix: prefix,
    })
    await other.execute('echo', {}, { requestedBy: 'b' })
    expect((await other.predict('echo', {})).samples).toBe(4)
  })

  it('degrades to SIMPLE, and says so, when the pattern store is unavailable', async () => {
    const dead = new Redis('redis://127.0.0.1:1', {
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      enableOfflineQueue: false,
    })
    const h = new Harness({
      house: House.ALLEGRO,
      mode: Mode.INTELLIGENT,
      tools: [echo],
      stores: { patterns: new RedisPatternStore(dead, '{x}') },
    })
    const r = await h.execute('echo', { text: 'still works' }, { requestedBy: 'b' })
    expect(r.status).toBe('success')
    expect(r.mode).toBe('simple')
    expect(r.notes.join()).toContain('INTELLIGENT mode degraded to SIMPLE')
    dead.disconnect()
  })
})
