import { Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { beat, liveness, unbeat } from '../../src/workers/heartbeat.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 })
const prefix = uniquePrefix()
afterEach(() => cleanupPrefix(prefix))
afterAll(() => redis.disconnect())

describe('a heartbeat that carries stress', () => {
  it('shows which live workers run INTELLIGENT jobs as SIMPLE, and why, until they recover', async () => {
    const now = Date.now()
    await beat(redis, prefix, 'ezra', 'w1', 10_000, now, 'event-loop lag 700 ms > 500 ms')
    await beat(redis, prefix, 'ezra', 'w2', 10_000, now)
    await beat(redis, prefix, 'timmy', 't1', 10_000, now, 'Redis latency 300 ms > 100 ms')
    expect(await liveness(redis, prefix, 'ezra', now)).toMatchObject({
      alive: true,
      workers: 2,
      degraded: [{ worker: 'w1', reason: 'event-loop lag 700 ms > 500 ms' }],
    })
    await beat(redis, prefix, 'ezra', 'w1', 10_000, now + 1)
    expect(await liveness(redis, prefix, 'ezra', now + 1)).not.toHaveProperty('degraded')
  })

  it('forgets it with the worker: a clean stop or an expired heartbeat', async () => {
    const now = Date.now()
    await beat(redis, prefix, 'ezra', 'w1', 10_000, now, 'queue wait 75 s > 60 s')
    await unbeat(redis, prefix, 'ezra', 'w1')
    expect(await redis.exists(`${prefix}:hb-degraded:ezra:w1`)).toBe(0)
    await beat(redis, prefix, 'ezra', 'w2', 10_000, now, 'queue wait 75 s > 60 s')
    // Past its TTL (as `liveness` sees it), the worker is not counted, nor its stress.
    expect(await liveness(redis, prefix, 'ezra', now + 20_000)).toEqual({
      alive: false,
      workers: 0,
      lastSeen: new Date(now).toISOString(),
    })
  })
})
