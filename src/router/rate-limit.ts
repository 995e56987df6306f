import type { RedisClient } from '../queue/connection.js'
import { DEFAULT_PREFIX } from '../queue/connection.js'
import { LuaScript } from '../queue/lua-script.js'
import type { RateDecision, RateLimiter, RateRule } from '../commands-core/command-spec.js'

function windowOf(nowMs: number, rule: RateRule): { index: number; resetSeconds: number } {
  const size = rule.windowSeconds * 1000
  const index = Math.floor(nowMs / size)
  return { index, resetSeconds: Math.max(1, Math.ceil(((index + 1) * size - nowMs) / 1000)) }
}

function decide(ordinal: number, rule: RateRule, resetSeconds: number): RateDecision {
  return { allowed: ordinal <= rule.limit, firstRefusal: ordinal === rule.limit + 1, resetSeconds }
}

/**
 * Fixed-window counter in Redis. Each hit is recorded with its ordinal in the window
 * (HSETNX-style), so a retried delivery gets the same answer and is not counted twice. Fields stop
 * being stored past `limit + 1`, which bounds memory under a flood. One key per limiter key and
 * window, under the `{uw}` hash tag, expiring with the window.
 */
const HIT_SCRIPT = new LuaScript(`
local seen = redis.call('HGET', KEYS[1], ARGV[1])
if seen then return tonumber(seen) end
local n = redis.call('HLEN', KEYS[1]) + 1
local cap = tonumber(ARGV[3])
if n > cap then return cap + 1 end
redis.call('HSET', KEYS[1], ARGV[1], n)
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return n
`)

/**
 * Rate limiter backed by Redis, shared by every router process.
 *
 * @example
 *   const limits = new RedisRateLimiter(createRedis(url, 'producer'))
 *   const d = await limits.hit('user:ann', 'd1:7:0', { limit: 10, windowSeconds: 60 })
 */
export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = DEFAULT_PREFIX,
    private readonly now: () => number = Date.now,
  ) {}

  async hit(key: string, hitId: string, rule: RateRule): Promise<RateDecision> {
    const { index, resetSeconds } = windowOf(this.now(), rule)
    const redisKey = `${this.prefix}:rl:${key}:${rule.windowSeconds}:${index}`
    // cap = limit + 1: the first refused hit is stored (so its retry is still "first"), later ones are not.
    const ordinal = Number(
      await HIT_SCRIPT.run(
        this.redis,
        [redisKey],
        [hitId, String(rule.windowSeconds + 1), String(rule.limit + 1)],
      ),
    )
    return decide(ordinal, rule, resetSeconds)
  }
}

/**
 * The same fixed-window limiter in memory, for tests and single-process sandboxes.
 *
 * @example
 *   const limits = new MemoryRateLimiter(() => fakeNow)
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, Map<string, number>>()

  constructor(private readonly now: () => number = Date.now) {}

  hit(key: string, hitId: string, rule: RateRule): Promise<RateDecision> {
    const { index, resetSeconds } = windowOf(this.now(), rule)
    const id = `${key}:${rule.windowSeconds}:${index}`
    for (const k of this.windows.keys()) if (k.startsWith(`${key}:`) && k !== id) this.windows.delete(k)
    let hits = this.windows.get(id)
    if (!hits) this.windows.set(id, (hits = new Map()))
    let ordinal = hits.get(hitId)
    if (ordinal === undefined) {
      ordinal = hits.size + 1
      if (ordinal <= rule.limit + 1) hits.set(hitId, ordinal)
      else ordinal = rule.limit + 2
    }
    return Promise.resolve(decide(ordinal, rule, resetSeconds))
  }
}
