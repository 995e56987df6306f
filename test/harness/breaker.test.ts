import { Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import {
  Harness,
  House,
  MemoryCircuitBreaker,
  RedisCircuitBreaker,
  type CircuitBreaker,
} from '../../src/harness/index.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'
import { echo, failing } from './test-tools.js'

const config = { failureThreshold: 3, windowMs: 10_000, cooldownMs: 5_000, closedCacheMs: 1_000 }
const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 })
const prefixes: string[] = []
afterEach(async () => {
  await Promise.all(prefixes.splice(0).map((p) => cleanupPrefix(p)))
})
afterAll(() => redis.disconnect())

const kinds: { name: string; make: () => CircuitBreaker }[] = [
  { name: 'memory', make: () => new MemoryCircuitBreaker(config) },
  {
    name: 'redis',
    make: () => {
      const prefix = uniquePrefix()
      prefixes.push(prefix)
      return new RedisCircuitBreaker(redis, config, prefix)
    },
  },
]

describe.each(kinds)('$name circuit breaker', ({ make }) => {
  it('closed -> open after N failures in the window -> half-open probe -> closed', async () => {
    const b = make()
    const k = 'ezra:git_pull'
    const t = 1_000_000
    await b.record(k, false, false, t)
    await b.record(k, false, false, t + 1)
    expect((await b.state(k, t + 2)).state).toBe('closed')
    expect(await b.acquire(k, t + 2)).toEqual({ allowed: true, probe: false })
    await b.record(k, false, false, t + 2)
    expect(await b.state(k, t + 3)).toMatchObject({ state: 'open', retryAt: t + 2 + 5_000 })
    expect(await b.acquire(k, t + 4_000)).toEqual({ allowed: false, state: 'open', retryAt: t + 5_002 })
    // Cool-down over: exactly one probe goes through; a second caller is refused meanwhile.
    expect(await b.acquire(k, t + 5_002)).toEqual({ allowed: true, probe: true })
    expect(await b.acquire(k, t + 5_003)).toMatchObject({ allowed: false, state: 'half-open' })
    await b.record(k, true, true, t + 5_010)
    expect((await b.state(k, t + 5_011)).state).toBe('closed')
    expect(await b.acquire(k, t + 5_011)).toEqual({ allowed: true, probe: false })
  })

  it('a failed probe opens the circuit again for a full cool-down', async () => {
    const b = make()
    const k = 'ezra:x'
    for (let i = 0; i < 3; i++) await b.record(k, false, false, 100 + i)
    expect(await b.acquire(k, 100 + 5_002)).toEqual({ allowed: true, probe: true })
    await b.record(k, false, true, 6_000)
    expect(await b.acquire(k, 6_001)).toEqual({ allowed: false, state: 'open', retryAt: 11_000 })
  })

  it('failures outside the window do not add up', async () => {
    const b = make()
    const k = 'ezra:y'
    await b.record(k, false, false, 1_000)
    await b.record(k, false, false, 2_000)
    await b.record(k, false, false, 20_000)
    expect((await b.state(k, 20_001)).state).toBe('closed')
  })

  it('a probe whose result never arrives frees the slot after the lease', async () => {
    const b = make()
    const k = 'ezra:z'
    for (let i = 0; i < 3; i++) await b.record(k, false, false, i)
    expect(await b.acquire(k, 5_002)).toEqual({ allowed: true, probe: true })
    expect(await b.acquire(k, 10_003)).toEqual({ allowed: true, probe: true })
  })
})

describe('breaker shared through Redis', () => {
  it('two workers see the same open circuit, and only one of them gets the probe', async () => {
    const prefix = uniquePrefix()
    prefixes.push(prefix)
    const a = new RedisCircuitBreaker(redis, config, prefix)
    const other = new Redis(testRedisUrl())
    const b = new RedisCircuitBreaker(other, config, prefix)
    for (let i = 0; i < 3; i++) await a.record('k', false, false, i)
    expect((await b.acquire('k', 10)).allowed).toBe(false)
    const both = await Promise.all([a.acquire('k', 6_000), b.acquire('k', 6_000)])
    expect(both.filter((d) => d.allowed)).toHaveLength(1)
    other.disconnect()
  })

  it('a closed circuit is trusted for closedCacheMs: another worker opening it is seen that late, never later', async () => {
    const prefix = uniquePrefix()
    prefixes.push(prefix)
    const a = new RedisCircuitBreaker(redis, config, prefix)
    const other = new Redis(testRedisUrl())
    const b = new RedisCircuitBreaker(other, config, prefix)
    const uncached = new RedisCircuitBreaker(other, { ...config, closedCacheMs: 0 }, prefix)
    expect(await b.acquire('k', 100)).toEqual({ allowed: true, probe: false }) // read: closed
    expect(await uncached.acquire('k', 100)).toEqual({ allowed: true, probe: false })
    for (let i = 0; i < 3; i++) await a.record('k', false, false, 200 + i) // a opens it
    expect((await a.acquire('k', 300)).allowed).toBe(false)
    expect((await uncached.acquire('k', 300)).allowed).toBe(false)
    expect(await b.acquire('k', 1_099)).toEqual({ allowed: true, probe: false }) // still trusted
    expect(await b.acquire('k', 1_100)).toMatchObject({ allowed: false, state: 'open' }) // asked again
    other.disconnect()
  })

  it('an answer read while this worker recorded a failure is not trusted afterwards', async () => {
    const prefix = uniquePrefix()
    prefixes.push(prefix)
    const a = new RedisCircuitBreaker(redis, config, prefix)
    const other = new Redis(testRedisUrl())
    const b = new RedisCircuitBreaker(other, config, prefix)
    const inFlight = a.acquire('k', 0) // sent before the failure below, answered "closed" after it
    await a.record('k', false, false, 1)
    expect(await inFlight).toEqual({ allowed: true, probe: false })
    for (let i = 0; i < 3; i++) await b.record('k', false, false, 2 + i) // b opens it
    expect(await a.acquire('k', 10)).toMatchObject({ allowed: false, state: 'open' }) // a asks Redis
    other.disconnect()
  })

  it("a worker's own failure drops its trust in the closed state at once", async () => {
    const prefix = uniquePrefix()
    prefixes.push(prefix)
    const a = new RedisCircuitBreaker(redis, config, prefix)
    expect((await a.acquire('k', 0)).allowed).toBe(true)
    for (let i = 0; i < 3; i++) await a.record('k', false, false, 10 + i)
    expect(await a.acquire('k', 20)).toMatchObject({ allowed: false, state: 'open' })
  })
})

describe('Harness with the breaker', () => {
  it('fails fast with a reason once open, then a probe success closes it', async () => {
    let now = 1_700_000_000_000
    let broken = true
    const flaky = {
      ...echo,
      name: 'flaky',
      run: async () => {
        if (broken) throw new Error('deterministic breakage')
        return { output: 'ok' }
      },
    }
    const h = new Harness({
      house: House.ALLEGRO,
      tools: [flaky, failing],
      config: { breaker: config },
      now: () => now,
    })
    for (let i = 0; i < 3; i++)
      expect((await h.execute('flaky', {}, { requestedBy: 'b' })).status).toBe('failure')
    const fast = await h.execute('flaky', {}, { requestedBy: 'b' })
    expect(fast.error?.rule).toBe('circuit-open')
    expect(fast.error?.reason).toContain(`until ${new Date(now + 5_000).toISOString()}`)
    expect(fast.attempts).toBe(0)
    // Other tools of the house are not affected.
    expect((await h.execute('always_fails', {}, { requestedBy: 'b' })).error?.rule).toBe('tool-failure')
    now += 5_001
    broken = false
    expect((await h.execute('flaky', {}, { requestedBy: 'b' })).status).toBe('success')
    expect((await h.execute('flaky', {}, { requestedBy: 'b' })).status).toBe('success')
  })
})
