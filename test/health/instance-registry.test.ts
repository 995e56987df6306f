import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import {
  listInstances,
  registerInstance,
  unregisterInstance,
  type InstanceInfo,
} from '../../src/health/instance-registry.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

const info = (id: string): InstanceInfo => ({
  id,
  pieces: ['workers'],
  houses: ['ezra'],
  address: 'http://127.0.0.1:9464',
  host: 'h',
  pid: 1,
  startedAt: '2026-12-06T00:00:00.000Z',
  version: '0.1.0',
})

describe('instance registry', () => {
  const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 })
  const prefix = uniquePrefix()
  afterAll(async () => {
    await cleanupPrefix(prefix)
    redis.disconnect()
  })

  it('lists live instances, drops expired and unregistered ones, and skips unreadable entries', async () => {
    const now = Date.now()
    await registerInstance(redis, prefix, info('a:1'), 60_000, now)
    await registerInstance(redis, prefix, info('b:2'), 60_000, now)
    await registerInstance(redis, prefix, info('gone:3'), 50, now)
    expect((await listInstances(redis, prefix, now)).map((i) => i.id).sort()).toEqual([
      'a:1',
      'b:2',
      'gone:3',
    ])
    // Past its TTL it is no longer listed (its set entry is scored by expiry).
    expect((await listInstances(redis, prefix, now + 1000)).map((i) => i.id).sort()).toEqual(['a:1', 'b:2'])

    await unregisterInstance(redis, prefix, 'b:2')
    await redis.set(`${prefix}:instance:a:1`, '{"id": 42}')
    expect(await listInstances(redis, prefix, now + 1000)).toEqual([])
    await registerInstance(redis, prefix, info('a:1'), 60_000)
    expect(await listInstances(redis, prefix, now + 1000)).toEqual([info('a:1')])
  })
})
