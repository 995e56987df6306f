import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { TokenBudget } from '../../src/workers/token-budget.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

// Issue 13 §4: "per-house token budgets; a job over budget ends failure with the reason". Jobs
// of one house run at once on several workers, so the budget is reserved atomically in Redis.
describe('TokenBudget', () => {
  const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 })
  const prefix = uniquePrefix()
  afterAll(async () => {
    await cleanupPrefix(prefix)
    redis.disconnect()
  })
  const day = Date.parse('2026-12-06T12:00:00Z')

  it('jobs starting at once never get more than is left between them', async () => {
    const budget = new TokenBudget(redis, prefix, 'bezalel', 1000, () => day)
    const granted = await Promise.all([1, 2, 3, 4, 5].map(() => budget.reserve(300)))
    expect(granted.reduce((a, b) => a + b, 0)).toBe(1000)
    expect([...granted].sort((a, b) => a - b)).toEqual([0, 100, 300, 300, 300])
    expect(await budget.left()).toBe(0)
  })

  it('settling gives back what a job did not use, and counts what it used beyond', async () => {
    const budget = new TokenBudget(redis, prefix, 'ezra', 1000, () => day)
    const a = await budget.reserve(400)
    await budget.settle(a, 150)
    expect(await budget.used()).toBe(150)
    const b = await budget.reserve(400)
    await budget.settle(b, 420)
    expect(await budget.used()).toBe(570)
    expect(await budget.left()).toBe(430)
  })

  it('a new UTC day starts a new budget', async () => {
    let now = day
    const budget = new TokenBudget(redis, prefix, 'timmy', 100, () => now)
    expect(await budget.reserve(100)).toBe(100)
    expect(await budget.reserve(10)).toBe(0)
    now = day + 24 * 3600 * 1000
    expect(await budget.reserve(10)).toBe(10)
  })
})
