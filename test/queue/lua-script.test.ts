import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LuaScript } from '../../src/queue/lua-script.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

describe('LuaScript', () => {
  const prefix = uniquePrefix()
  let redis: Redis
  const incr = new LuaScript(`return redis.call('INCRBY', KEYS[1], ARGV[1])`)
  beforeAll(() => {
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 })
  })
  afterAll(async () => {
    await cleanupPrefix(prefix)
    redis.disconnect()
  })

  it('has the SHA1 Redis gives the script', async () => {
    expect(await redis.script('LOAD', incr.source)).toBe(incr.sha)
  })

  it.each([
    ['Redis knows the script', async () => void (await redis.script('LOAD', incr.source))],
    ['Redis does not (first use, restart, SCRIPT FLUSH)', async () => void (await redis.script('FLUSH'))],
  ])('runs it when %s', async (_, before) => {
    const key = `${prefix}:n:${Math.random()}`
    await before()
    expect(await incr.run(redis, [key], [5])).toBe(5)
    expect(await incr.run(redis, [key], ['2'])).toBe(7)
    expect(await redis.script('EXISTS', incr.sha)).toEqual([1])
  })

  it('passes on errors other than NOSCRIPT', async () => {
    const bad = new LuaScript(`return redis.call('NOSUCHCOMMAND')`)
    await expect(bad.run(redis, [], [])).rejects.toThrow(/Unknown Redis command|unknown command/i)
  })
})
