import { Registry } from 'prom-client'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { registerWorkersAlive } from '../../src/metrics/index.js'
import { beat, liveness, unbeat } from '../../src/workers/heartbeat.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

const prefix = uniquePrefix()
const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 })
afterAll(async () => {
  redis.disconnect()
  await cleanupPrefix(prefix)
})

describe('uw_house_workers_alive', () => {
  it('counts live heartbeats per configured house at scrape time, 0 for a house with none', async () => {
    const registry = new Registry()
    registerWorkersAlive(registry, {
      houses: ['timmy', 'ezra', 'bezalel'],
      workersAlive: async (h) => (await liveness(redis, prefix, h)).workers,
    })
    await beat(redis, prefix, 'timmy', 'a:1', 60_000)
    await beat(redis, prefix, 'timmy', 'b:2', 60_000)
    await beat(redis, prefix, 'ezra', 'a:1', 60_000)
    // An expired heartbeat (written long ago) does not count; a worker outside the config is not shown.
    await beat(redis, prefix, 'bezalel', 'gone:3', 1_000, Date.now() - 10_000)
    await beat(redis, prefix, 'stranger', 'a:1', 60_000)
    const scrape = async () => (await registry.getSingleMetric('uw_house_workers_alive')!.get()).values
    expect(await scrape()).toEqual(
      expect.arrayContaining([
        { labels: { house: 'timmy' }, value: 2 },
        { labels: { house: 'ezra' }, value: 1 },
        { labels: { house: 'bezalel' }, value: 0 },
      ]),
    )
    expect(await scrape()).toHaveLength(3)
    await unbeat(redis, prefix, 'ezra', 'a:1')
    expect(await scrape()).toContainEqual({ labels: { house: 'ezra' }, value: 0 })
  })

  it('leaves out a house whose heartbeats cannot be read, instead of a false 0', async () => {
    const registry = new Registry()
    registerWorkersAlive(registry, {
      houses: ['timmy', 'ezra'],
      workersAlive: async (h) => {
        if (h === 'ezra') throw new Error('Connection is closed.')
        return 1
      },
    })
    const text = await registry.metrics()
    expect(text).toContain('uw_house_workers_alive{house="timmy"} 1')
    expect(text).not.toContain('house="ezra"')
  })
})
