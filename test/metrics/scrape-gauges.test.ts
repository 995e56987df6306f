import { Redis } from 'ioredis'
import { Registry } from 'prom-client'
import { afterAll, describe, expect, it } from 'vitest'
import { circuitStates, RedisCircuitBreaker } from '../../src/harness/attempts/circuit-breaker.js'
import { registerAgentMetrics, registerCircuitMetrics, registerRedisUp } from '../../src/metrics/index.js'
import { freePort } from '../../src/queue/redis-server.js'
import { createRedis } from '../../src/queue/connection.js'
import { TokenBudget } from '../../src/workers/token-budget.js'
import { samples, valueOf } from '../helpers/prom-text.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

const prefix = uniquePrefix()
const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 })
afterAll(async () => {
  redis.disconnect()
  await cleanupPrefix(prefix)
})

describe('uw_circuit_state', () => {
  it('shows each house × tool circuit of the shared breaker: one series per state, 1 for the current one', async () => {
    const config = { failureThreshold: 2, windowMs: 60_000, cooldownMs: 1_000, closedCacheMs: 0 }
    const breaker = new RedisCircuitBreaker(redis, config, prefix)
    const circuits = [
      { house: 'ezra', tool: 'http_get' },
      { house: 'ezra', tool: 'git_status' },
      { house: 'timmy', tool: 'http_get' },
    ]
    const registry = new Registry()
    registerCircuitMetrics(registry, {
      circuits,
      states: () =>
        circuitStates(
          redis,
          prefix,
          circuits.map((c) => `${c.house}:${c.tool}`),
        ),
    })
    const now = Date.now()
    await breaker.record('ezra:http_get', false, false, now)
    await breaker.record('ezra:http_get', false, false, now)
    let all = samples(await registry.metrics())
    const state = (house: string, tool: string, s: string) =>
      valueOf(all, 'uw_circuit_state', { house, tool, state: s })
    expect([state('ezra', 'http_get', 'open'), state('ezra', 'http_get', 'closed')]).toEqual([1, 0])
    expect([state('ezra', 'git_status', 'closed'), state('timmy', 'http_get', 'closed')]).toEqual([1, 1])
    expect(all.filter((s) => s.name === 'uw_circuit_state')).toHaveLength(9)
    // After the cooldown the next call is the half-open probe.
    expect(await breaker.acquire('ezra:http_get', now + 1_500)).toEqual({ allowed: true, probe: true })
    all = samples(await registry.metrics())
    expect([state('ezra', 'http_get', 'half-open'), state('ezra', 'http_get', 'open')]).toEqual([1, 0])
  })
})

describe('agent budget and token metrics', () => {
  it('counts the tokens a budget records and shows what is left of the day, shared through Redis', async () => {
    const registry = new Registry()
    const day = Date.parse('2026-03-01T12:00:00Z')
    const agents = registerAgentMetrics(registry, [
      { house: 'ezra', daily: 1_000, left: () => budget.left() },
    ])
    const budget = new TokenBudget(
      redis,
      prefix,
      'ezra',
      1_000,
      () => day,
      (n) => agents.tokens('ezra', n),
    )
    // Another worker of the house spends from the same budget.
    const other = new TokenBudget(redis, prefix, 'ezra', 1_000, () => day)
    await budget.spend(300)
    await other.spend(500)
    await budget.spend(400) // over: left shows 0, not a negative number
    const all = samples(await registry.metrics())
    expect(valueOf(all, 'uw_agent_tokens_total', { house: 'ezra' })).toBe(700)
    expect(valueOf(all, 'uw_agent_budget_tokens', { house: 'ezra' })).toBe(1_000)
    expect(valueOf(all, 'uw_agent_budget_tokens_left', { house: 'ezra' })).toBe(0)
  })
})

describe('uw_redis_up', () => {
  it('is 1 while Redis answers PING and 0 when it does not', async () => {
    const up = new Registry()
    registerRedisUp(up, () => redis.ping())
    expect(valueOf(samples(await up.metrics()), 'uw_redis_up')).toBe(1)
    // A producer connection to a port where no Redis listens fails fast.
    const gone = createRedis(`redis://127.0.0.1:${await freePort()}`, 'producer')
    gone.on('error', () => undefined)
    try {
      const down = new Registry()
      registerRedisUp(down, () => gone.ping(), 500)
      expect(valueOf(samples(await down.metrics()), 'uw_redis_up')).toBe(0)
    } finally {
      gone.disconnect()
    }
  })
})
