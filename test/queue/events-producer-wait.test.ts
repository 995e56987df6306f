import { Queue } from 'bullmq'
import { afterEach, describe, expect, it } from 'vitest'
import type { EventJob } from '../../src/events/payloads.js'
import { createRedis, type RedisClient } from '../../src/queue/connection.js'
import { RedisConfig } from '../../src/queue/redis-config.js'
import { createEventsProducer, EVENTS_QUEUE, QueueUnavailableError } from '../../src/queue/events-producer.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

const event = (deliveryId: string) =>
  ({ deliveryId, event: 'issue_comment', payload: { action: 'created' } }) as unknown as EventJob

// The shared test Redis has no replica: WAIT 1 can never be satisfied there, which is the refusal
// path. The accepting path (a replica confirms) runs against real Sentinel in
// test/resilience/redis-failover.test.ts.
describe('the events producer with redis.waitReplicas', () => {
  const prefix = uniquePrefix()
  let connection: RedisClient | undefined
  afterEach(async () => {
    connection?.disconnect()
    await cleanupPrefix(prefix)
  })

  it('answers unavailable when fewer replicas confirm, and the redelivery is a duplicate of the stored job', async () => {
    connection = createRedis(testRedisUrl(), 'producer')
    const producer = createEventsProducer({
      connection,
      prefix,
      dedupeTtlSeconds: 60,
      waitReplicas: 1,
      waitTimeoutMs: 50,
    })
    const queue = new Queue(EVENTS_QUEUE, { connection, prefix })
    try {
      const first = producer.enqueue(event('w-1'))
      await expect(first).rejects.toBeInstanceOf(QueueUnavailableError)
      await expect(first).rejects.toThrow('0 of 1 replicas confirmed the event within 50 ms')
      // Stored on the primary all the same: one job, and the redelivery is recognised.
      expect(await queue.count()).toBe(1)
      await expect(producer.enqueue(event('w-1'))).rejects.toThrow(/replicas confirmed/)
      expect(await queue.count()).toBe(1)
      // Without the bound the same Redis answers at once.
      const plain = createEventsProducer({ connection, prefix, dedupeTtlSeconds: 60 })
      expect(await plain.enqueue(event('w-1'))).toBe('duplicate')
      expect(await plain.enqueue(event('w-2'))).toBe('enqueued')
      await plain.close()
    } finally {
      await producer.close()
      await queue.close()
    }
  })

  it('is refused on a Cluster connection, where WAIT cannot reach the node that took the write', () => {
    // Not connected: the check is on the client's kind, before any command.
    connection = createRedis('redis+cluster://127.0.0.1:1', 'producer', { lazyConnect: true })
    expect(() =>
      createEventsProducer({ connection: connection!, dedupeTtlSeconds: 60, waitReplicas: 1 }),
    ).toThrow(/redis\.waitReplicas is not supported with a redis\+cluster/)
  })
})

describe('the redis: config section', () => {
  it.each([
    [{}, { waitReplicas: 0, waitTimeoutMs: 500 }],
    [
      { waitReplicas: 1, waitTimeoutMs: 200 },
      { waitReplicas: 1, waitTimeoutMs: 200 },
    ],
  ])('reads %j', (input, expected) => {
    expect(RedisConfig.parse(input)).toEqual(expected)
  })

  it.each([
    [{ waitReplicas: -1 }, 'waitReplicas'],
    [{ waitTimeoutMs: 2000 }, 'waitTimeoutMs'], // past the enqueue's 2 s deadline
    [{ waitReplica: 1 }, 'waitReplica'], // a typo is refused, not ignored
  ])('refuses %j', (input, path) => {
    const r = RedisConfig.safeParse(input)
    expect(r.success).toBe(false)
    expect(JSON.stringify(r.error?.issues)).toContain(path)
  })
})
