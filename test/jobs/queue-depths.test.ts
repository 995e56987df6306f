import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { QueueDepths } from '../../src/jobs/queue-depths.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

const prefix = uniquePrefix()
const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 })
const queue = new Queue('house-ezra', { connection: redis, prefix })
afterAll(async () => {
  await queue.close()
  redis.disconnect()
  await cleanupPrefix(prefix)
})

describe('QueueDepths', () => {
  it('reads counts per state and the oldest waiting job of each queue, reusing a reading for cacheMs', async () => {
    const depths = new QueueDepths({
      connection: redis,
      prefix,
      queues: ['house-ezra', 'reports'],
      cacheMs: 1000,
    })
    try {
      const first = await queue.add('git_status', {}, { jobId: 'first', timestamp: 1_000 })
      await queue.add('git_status', {}, { jobId: 'second', timestamp: 2_000 })
      await queue.add('git_status', {}, { jobId: 'later', delay: 60_000 })
      expect(first.timestamp).toBe(1_000)
      const read = await depths.depths(10_000)
      expect(read).toEqual([
        {
          queue: 'house-ezra',
          counts: { waiting: 2, active: 0, delayed: 1, failed: 0 },
          oldestWaitingAt: 1_000,
        },
        {
          queue: 'reports',
          counts: { waiting: 0, active: 0, delayed: 0, failed: 0 },
          oldestWaitingAt: undefined,
        },
      ])
      await queue.remove('first')
      // Within cacheMs the reading is reused; after it, Redis is read again.
      expect((await depths.depths(10_500))[0]?.counts.waiting).toBe(2)
      const again = await depths.depths(11_001)
      expect(again[0]).toMatchObject({ counts: { waiting: 1 }, oldestWaitingAt: 2_000 })
    } finally {
      await depths.close()
    }
  })
})
