import { randomUUID } from 'node:crypto'
import { Cluster } from 'ioredis'
import { createRedis, type RedisClient } from '../../src/queue/connection.js'
import { inject } from 'vitest'

/** The URL of the run's shared test Redis (started by test/setup/redis-global.ts). */
export function testRedisUrl(): string {
  return inject('redisUrl')
}

/** A Cluster-safe key prefix unique to one test, so tests never see each other's keys. */
export function uniquePrefix(): string {
  return `{uwtest-${randomUUID().slice(0, 8)}}`
}

/**
 * Every key under a prefix. On a Cluster SCAN sees one node, so each primary is scanned (a prefix
 * with a hash tag has all its keys on one of them).
 */
export async function keysUnder(redis: RedisClient, prefix: string): Promise<string[]> {
  const out: string[] = []
  for (const node of redis instanceof Cluster ? redis.nodes('master') : [redis]) {
    let cursor = '0'
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
      cursor = next
      out.push(...keys)
    } while (cursor !== '0')
  }
  return out.sort()
}

/** Deletes every key under a prefix. Call it in afterEach/afterAll. */
export async function cleanupPrefix(prefix: string, url = testRedisUrl()): Promise<void> {
  const redis = createRedis(url, 'worker', { maxRetriesPerRequest: 1 })
  try {
    // The prefix's hash tag keeps its keys in one slot, so one DEL per batch works on a Cluster too.
    const keys = await keysUnder(redis, prefix)
    for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500))
  } finally {
    redis.disconnect()
  }
}
