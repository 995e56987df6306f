import { Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { Harness, House, Mode } from '../../src/harness/index.js'
import {
  emptyStats,
  MemoryPatternStore,
  PatternIntelligence,
  RedisPatternStore,
  decayOf,
  DEFAULT_INTELLIGENCE,
  type Outcome,
  type PatternStore,
} from '../../src/intelligence/index.js'
import { ToolError } from '../../src/tools/tool.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'
import { echo, failing, testTool } from '../harness/test-tools.js'

const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 })
const prefixes: string[] = []
const HOUR = 3600_000
const DECAY = decayOf(DEFAULT_INTELLIGENCE)
const T0 = Date.parse('2026-03-02T12:00:00Z')
afterEach(async () => {
  await Promise.all(prefixes.splice(0).map((p) => cleanupPrefix(p)))
})
afterAll(() => redis.disconnect())

function fresh(): string {
  const p = uniquePrefix()
  prefixes.push(p)
  return p
}

const OUTCOMES: [Outcome, number][] = [
  [{ ok: true, durationMs: 120 }, T0],
  [{ ok: false, durationMs: 3000, kind: 'network', retried: ['network'] }, T0 + HOUR],
  [{ ok: true, durationMs: 95, retried: ['server'] }, T0 + 30 * HOUR],
  [{ ok: false, durationMs: 1, kind: 'validation' }, T0 + 31 * HOUR],
  [{ ok: true, durationMs: 150 }, T0 + 100 * HOUR],
]

describe.each([
  { name: 'memory', make: (): PatternStore => new MemoryPatternStore(DECAY) },
  { name: 'redis', make: (): PatternStore => new RedisPatternStore(redis, fresh(), DECAY) },
])('$name pattern store', ({ make }) => {
  it('keeps decayed counts per house × tool × shape, and the tool total', async () => {
    const s = make()
    for (const [o, at] of OUTCOMES)
      await s.record({ house: 'ezra', tool: 't', shape: 'path=path:file' }, o, at)
    await s.record(
      { house: 'ezra', tool: 't', shape: 'n=int:small' },
      { ok: false, durationMs: 9 },
      T0 + 100 * HOUR,
    )
    await s.record({ house: 'bezalel', tool: 't' }, { ok: true, durationMs: 1 }, T0)
    const { total, shape } = await s.read({ house: 'ezra', tool: 't', shape: 'path=path:file' })
    // Decayed to the last update (T0 + 100 h): weights 2^(-100/72), 2^(-99/72), 2^(-70/72), 1.
    const w = (h: number) => 0.5 ** (h / 72)
    expect(shape!.ok).toBeCloseTo(w(100) + w(70) + 1, 9)
    expect(shape!.fail).toBeCloseTo(w(99), 9)
    expect(shape!.kinds.network).toBeCloseTo(w(99), 9)
    expect(shape!.kinds.validation).toBeCloseTo(w(69), 9)
    expect(shape!.retries.network!.failed).toBeCloseTo(w(99), 9)
    expect(shape!.retries.server!.recovered).toBeCloseTo(w(70), 9)
    expect(total.fail).toBeCloseTo(w(99) + 1, 9)
    // Per-day counts live on the total only, undecayed: 2 runs on day 0, 1 each on days 1 and 4.
    expect(Object.values(total.days).reduce((n, d) => n + d.n, 0)).toBe(5)
    expect(shape!.days).toEqual({})
    expect(await s.list()).toEqual(
      expect.arrayContaining([
        { house: 'ezra', tool: 't' },
        { house: 'bezalel', tool: 't' },
      ]),
    )
    expect((await s.read({ house: 'nobody', tool: 't' })).total).toEqual(emptyStats())
  })
})

describe('Redis pattern store', () => {
  it('agrees with the memory store through a change: fast counts, the restart and its note', async () => {
    const memory = new MemoryPatternStore(DECAY)
    const redisStore = new RedisPatternStore(redis, fresh(), DECAY)
    const key = { house: 'ezra', tool: 'deploy', shape: 'env=str:short' }
    // 5 days at 9 in 10, then every run fails but one in four: 16 runs a day.
    for (let i = 0; i < 7 * 16; i++) {
      const ok = i < 5 * 16 ? i % 10 !== 3 : i % 4 === 0
      const at = T0 + i * 90 * 60_000
      const o: Outcome = ok ? { ok, durationMs: 100 + i } : { ok, durationMs: 100 + i, kind: 'tool' }
      await memory.record(key, o, at)
      await redisStore.record(key, o, at)
    }
    const [m, r] = [await memory.read(key), await redisStore.read(key)]
    for (const [a, b] of [
      [m.total, r.total],
      [m.shape!, r.shape!],
    ] as const) {
      expect(a.change).toBeDefined()
      expect(b.change!.at).toBe(a.change!.at)
      expect(b.change!.before).toBeCloseTo(a.change!.before, 9)
      for (const field of ['ok', 'fail', 'fastOk', 'fastFail'] as const)
        expect(b[field]).toBeCloseTo(a[field], 9)
    }
    // The restart is after the change, and what it set aside was the 0.9 history.
    expect(m.total.change!.at).toBeGreaterThan(T0 + 5 * 16 * 90 * 60_000)
    expect(m.total.change!.before).toBeGreaterThan(0.8)
  })

  it('reads and extends a record written before the change detector (no fs, ff, c)', async () => {
    const prefix = fresh()
    const key = `${prefix}:intel:ezra:t:*`
    await redis.hset(key, { t: String(T0), s: '40', f: '2', 'd:20': '42' })
    const s = new RedisPatternStore(redis, prefix, DECAY)
    expect((await s.read({ house: 'ezra', tool: 't' })).total).toMatchObject({
      ok: 40,
      fail: 2,
      fastOk: 0,
      fastFail: 0,
    })
    await s.record({ house: 'ezra', tool: 't' }, { ok: false, durationMs: 90 }, T0 + HOUR)
    const { total } = await s.read({ house: 'ezra', tool: 't' })
    expect(total.ok).toBeCloseTo(40 * 0.5 ** (1 / 72), 9)
    expect(total.fail).toBeCloseTo(2 * 0.5 ** (1 / 72) + 1, 9)
    // One failure after a quiet spell is no evidence of a change: too few recent runs to judge.
    expect([total.fastOk, total.fastFail, total.change]).toEqual([0, 1, undefined])
    // A malformed note from another version is ignored, not trusted.
    await redis.hset(key, 'c', 'soon:2')
    expect((await s.read({ house: 'ezra', tool: 't' })).total.change).toBeUndefined()
  })

  it('loses no update when many workers record at once (one Lua script per outcome)', async () => {
    const prefix = fresh()
    const stores = [0, 1, 2, 3].map(() => new RedisPatternStore(redis, prefix, DECAY))
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        stores[i % 4]!.record(
          { house: 'ezra', tool: 't', shape: 'a=url' },
          { ok: i % 5 !== 0, durationMs: 10 + i },
          T0,
        ),
      ),
    )
    const { total, shape } = await stores[0]!.read({ house: 'ezra', tool: 't', shape: 'a=url' })
    expect([total.ok, total.fail]).toEqual([160, 40])
    expect([shape!.ok, shape!.fail]).toEqual([160, 40])
  })

  it('keeps bounded memory: hash keys under the prefix, expiring once decayed, old fields dropped', async () => {
    const prefix = fresh()
    const s = new RedisPatternStore(redis, prefix, { ...DECAY, halfLifeMs: HOUR, fastHalfLifeMs: HOUR / 8 })
    for (let i = 0; i < 300; i++)
      await s.record({ house: 'ezra', tool: 't' }, { ok: true, durationMs: 2 ** (i % 25) }, T0 + i * HOUR)
    const keys = await redis.keys(`${prefix}*`)
    expect(keys.sort()).toEqual([`${prefix}:intel:ezra:t:*`, `${prefix}:intel:index`])
    const fields = await redis.hkeys(`${prefix}:intel:ezra:t:*`)
    // Durations of 25 sizes were seen, but those not seen for many half-lives decayed away; 15 days kept.
    expect(fields.filter((f) => f.startsWith('day:')).length).toBeLessThanOrEqual(30)
    expect(fields.filter((f) => f.startsWith('d:')).length).toBeLessThan(25 * 2)
    const ttl = await redis.pttl(`${prefix}:intel:ezra:t:*`)
    expect(ttl).toBeGreaterThan(14 * 24 * HOUR)
    expect(ttl).toBeLessThanOrEqual(15 * 24 * HOUR)
  })

  it('drops a pair whose record expired from the index', async () => {
    const prefix = fresh()
    const s = new RedisPatternStore(redis, prefix, DECAY)
    await s.record({ house: 'ezra', tool: 't' }, { ok: true, durationMs: 1 }, T0)
    await redis.del(`${prefix}:intel:ezra:t:*`)
    expect(await s.list()).toEqual([])
    expect(await redis.scard(`${prefix}:intel:index`)).toBe(0)
  })

  it('reads a hash written by another version without trusting it', async () => {
    const prefix = fresh()
    await redis.hset(`${prefix}:intel:ezra:t:*`, {
      t: String(T0),
      s: '3',
      f: 'NaN',
      'k:bogus': '5',
      'd:x': '1',
      'k:timeout': '-2',
    })
    const { total } = await new RedisPatternStore(redis, prefix, DECAY).read({ house: 'ezra', tool: 't' })
    expect(total).toMatchObject({ ok: 3, fail: 0, kinds: { timeout: 0 }, durations: {} })
  })
})

describe('INTELLIGENT mode in the harness', () => {
  it('learns outcomes, shares them through Redis, and says the prediction in the result; SIMPLE learns nothing', async () => {
    const prefix = fresh()
    const h = new Harness({
      house: House.EZRA,
      mode: Mode.INTELLIGENT,
      tools: [echo, failing],
      redis,
      redisPrefix: prefix,
    })
    const first = await h.execute('echo', { text: 'a' }, { requestedBy: 'b' })
    expect(first.prediction?.samples).toBe(0)
    expect(first.notes).toEqual([])
    for (let i = 0; i < 11; i++) await h.execute('echo', { text: 'a' }, { requestedBy: 'b' })
    await h.execute('always_fails', {}, { requestedBy: 'b' })
    const p = await h.predict('echo', { text: 'b' })
    expect(p.samples).toBeCloseTo(12, 0)
    expect(p.basis).toBe('shape')
    expect(p.successProbability).toBeGreaterThan(0.9)
    expect(p.adaptiveTimeoutMs).toBe(1000) // fast echo: the minimum
    const next = await h.execute('echo', { text: 'a' }, { requestedBy: 'b' })
    expect(next.notes.find((n) => n.startsWith('INTELLIGENT:'))).toMatch(
      /^INTELLIGENT: likely to succeed: 0\.9\d \[0\.\d\d, [01]\.\d\d\] from 12 runs, usually \d+ ms \(p90 \d+ ms\); timeout 1 s: 1\.5 × p90 \d+ ms of 12 runs, within \[1 s, 5 s\]$/,
    )
    expect((await h.predict('always_fails', {})).failures).toEqual([{ kind: 'tool', weight: 1 }])
    // A second worker of the house sees the same history; in SIMPLE mode it adds nothing.
    const other = new Harness({
      house: House.EZRA,
      mode: Mode.SIMPLE,
      tools: [echo],
      redis,
      redisPrefix: prefix,
    })
    const simple = await other.execute('echo', { text: 'a' }, { requestedBy: 'b' })
    expect(simple.prediction).toBeUndefined()
    expect((await other.predict('echo', { text: 'a' })).samples).toBeCloseTo(13, 0)
  })

  it('counts bad arguments as a validation kind, not as a run', async () => {
    const prefix = fresh()
    const h = new Harness({
      house: House.EZRA,
      mode: Mode.INTELLIGENT,
      tools: [echo],
      redis,
      redisPrefix: prefix,
    })
    const r = await h.execute('echo', { text: 5 }, { requestedBy: 'b' })
    expect(r.status).toBe('failure')
    const { total } = await new RedisPatternStore(redis, prefix, DECAY).read({ house: 'ezra', tool: 'echo' })
    expect(total).toMatchObject({ ok: 0, fail: 0, kinds: { validation: 1 } })
  })

  it('stops retrying a transient kind whose retries never recovered, and says so', async () => {
    const prefix = fresh()
    const reset = testTool('flaky_fetch', async () => {
      throw new ToolError('connection reset', true, {
        cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      })
    })
    const h = new Harness({
      house: House.EZRA,
      mode: Mode.INTELLIGENT,
      tools: [reset],
      redis,
      redisPrefix: prefix,
      config: {
        retry: { maxAttempts: 2, baseDelayMs: 0, maxDelayMs: 0 },
        breaker: { failureThreshold: 100 },
      },
    })
    const attempts: number[] = []
    const notes: string[] = []
    for (let i = 0; i < 5; i++) {
      const r = await h.execute('flaky_fetch', {}, { requestedBy: 'b' })
      expect(r.status).toBe('failure')
      attempts.push(r.attempts)
      notes.push(r.notes.find((n) => n.startsWith('not retried')) ?? '')
    }
    // Three calls retried once and never recovered (retry.minSamples 3), so the rest are not retried.
    expect(attempts).toEqual([2, 2, 2, 1, 1])
    expect(notes[3]).toBe('not retried: after a network failure, retries recovered 0 of 3 calls')
    const detail = await new PatternIntelligence({
      store: new RedisPatternStore(redis, prefix, DECAY),
      config: DEFAULT_INTELLIGENCE,
    }).detail('ezra', 'flaky_fetch')
    expect(detail.retries).toEqual([
      {
        kind: 'network',
        advice: { retry: false, why: 'not retried: after a network failure, retries recovered 0 of 3 calls' },
      },
    ])
    expect(detail.prediction.failures).toEqual([{ kind: 'network', weight: 5 }])
    // SIMPLE mode keeps the plain rule: transient failures are retried.
    expect((await h.execute('flaky_fetch', {}, { requestedBy: 'b', mode: Mode.SIMPLE })).attempts).toBe(2)
  })

  it('adapts the timeout from observed durations: a tool that usually takes 50 ms is stopped far before its configured 5 s', async () => {
    const prefix = fresh()
    let hang = false
    const sometimes = testTool('sometimes_hangs', async () => {
      await new Promise((r) => setTimeout(r, hang ? 4_000 : 50))
      return { output: 'ok' }
    })
    const h = new Harness({
      house: House.EZRA,
      mode: Mode.INTELLIGENT,
      tools: [sometimes],
      redis,
      redisPrefix: prefix,
      config: { intelligence: { timeout: { minMs: 200, maxMs: 60_000 } } },
    })
    for (let i = 0; i < 10; i++)
      expect((await h.execute('sometimes_hangs', {}, { requestedBy: 'b' })).status).toBe('success')
    hang = true
    const r = await h.execute('sometimes_hangs', {}, { requestedBy: 'b' })
    expect(r.status).toBe('timeout')
    expect(r.error?.reason).toMatch(/did not finish within 200 ms/)
    expect(r.notes.join('\n')).toMatch(/timeout 200 ms: 1\.5 × p90 \d+ ms of 10 runs, within \[200 ms, 5 s\]/)
    expect((await h.predict('sometimes_hangs', {})).failures).toEqual([{ kind: 'timeout', weight: 1 }])
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
      stores: { patterns: new RedisPatternStore(dead, '{x}', DECAY) },
    })
    const r = await h.execute('echo', { text: 'still works' }, { requestedBy: 'b' })
    expect(r.status).toBe('success')
    expect(r.mode).toBe('simple')
    expect(r.notes.join()).toContain('INTELLIGENT mode degraded to SIMPLE')
    dead.disconnect()
  })
})
