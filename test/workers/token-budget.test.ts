import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { TokenBudget } from '../../src/workers/token-budget.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

// Issue 13 §4: "per-house token budgets; a job over budget ends failure with the reason". The
// budget is one counter per house and UTC day in Redis, shared by every worker of the house.
describe('TokenBudget', () => {
  const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 })
  const prefix = uniquePrefix()
  afterAll(async () => {
    await cleanupPrefix(prefix)
    redis.disconnect()
  })
  const day = Date.parse('2026-12-06T12:00:00Z')

  it('counts what every worker spends, at once, and says what is left', async () => {
    const a = new TokenBudget(redis, prefix, 'bezalel', 1000, () => day)
    const b = new TokenBudget(redis, prefix, 'bezalel', 1000, () => day)
    await Promise.all([a.spend(300), b.spend(300), a.spend(300), b.spend(0)])
    expect(await a.used()).toBe(900)
    expect(await b.left()).toBe(100)
    expect(await b.spend(150)).toBe(-50) // what is left after it, in the same round trip
    expect(await a.left()).toBe(-50)
  })

  it('a new UTC day starts a new budget', async () => {
    let now = day
    const budget = new TokenBudget(redis, prefix, 'timmy', 100, () => now)
    await budget.spend(100)
    expect(await budget.left()).toBe(0)
    now = day + 24 * 3600 * 1000
    expect(await budget.left()).toBe(100)
  })
})
