import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { inject } from 'vitest'

/** The URL of the run's shared test Redis (started by test/setup/redis-global.ts). */
export function testRedisUrl(): string {
  return inject('redisUrl')
}

/** A Cluster-safe key prefix unique to one test, so tests never see each other's keys. */
export function uniquePrefix(): string {
  return `{uwtest-${randomUUID().slice(0, 8)}}`
}

/** Deletes every key under a prefix. Call it in afterEach/afterAll. */
export async function cleanupPrefix(prefix: string, url = testRedisUrl()): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 })
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
      cursor = next
      if (keys.length > 0) await redis.del(...keys)
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
}
