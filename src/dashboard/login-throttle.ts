import { randomUUID } from 'node:crypto'
import type { RedisClient } from '../queue/connection.js'
import { LuaScript } from '../queue/lua-script.js'

/** How many token logins may fail, per client and over all clients, within a sliding window. */
export interface LoginLimits {
  /** Failed attempts one client (an IPv4 address, an IPv6 /64) may make in the window. */
  perClient: number
  /** Failed attempts all clients together may make in the window. */
  overall: number
  windowSeconds: number
}

/** Whether a token login may be tried now. */
export type LoginTurn =
  | { allowed: true; attempt: string }
  | {
      allowed: false
      /** Whose limit is reached: this client's, or everyone's. */
      scope: 'client' | 'overall'
      /** When an attempt is allowed again (at least 1). */
      retryAfterSeconds: number
      /** The first refusal of this block (what is logged; later ones are not, so a flood does not flood the log). */
      firstRefusal: boolean
    }

/**
 * One sliding window per key: a sorted set of attempts scored by their time. An attempt is taken
 * (counted as failed) atomically with the check, so concurrent guesses cannot all slip past the
 * limit between a check and a count; `succeeded` gives a successful one back. A refused attempt is
 * not stored, so each set holds at most its limit. KEYS: client set, overall set, client's and
 * overall's "refusal logged" flags, all under the `{uw}` hash tag (one slot).
 * ARGV: now (ms), window (ms), per-client limit, overall limit, attempt id.
 */
const ATTEMPT = new LuaScript(`
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local function blocked(key, limit)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local n = redis.call('ZCARD', key)
  if n < limit then return nil end
  -- allowed again once enough of the oldest attempts leave the window to bring it below the limit
  local at = redis.call('ZRANGE', key, n - limit, n - limit, 'WITHSCORES')
  return math.max(1, tonumber(at[2]) + window - now)
end
local scopes = { { KEYS[1], tonumber(ARGV[3]), KEYS[3], 'client' }, { KEYS[2], tonumber(ARGV[4]), KEYS[4], 'overall' } }
for _, s in ipairs(scopes) do
  local wait = blocked(s[1], s[2])
  if wait then
    local first = redis.call('SET', s[3], '1', 'NX', 'PX', wait)
    return { s[4], wait, first and 1 or 0 }
  end
end
for _, key in ipairs({ KEYS[1], KEYS[2] }) do
  redis.call('ZADD', key, now, ARGV[5])
  redis.call('PEXPIRE', key, window)
end
return { 'allowed', 0, 0 }
`)

/**
 * Throttles the dashboard's token login, in Redis so every dashboard process shares the count.
 * Each attempt counts as a failure unless it succeeds; while a client (or everyone) is at its
 * limit, every attempt is refused, a correct token too, so a guesser learns nothing until the
 * oldest failures leave the window.
 *
 * @example
 *   const throttle = new LoginThrottle(redis, '{uw}', { perClient: 10, overall: 100, windowSeconds: 900 })
 *   const turn = await throttle.attempt('203.0.113.7')
 *   if (turn.allowed && tokenIsRight) await throttle.succeeded('203.0.113.7', turn.attempt)
 */
export class LoginThrottle {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    readonly limits: LoginLimits,
    private readonly now: () => number = Date.now,
  ) {}

  private keys(client: string): string[] {
    const base = `${this.prefix}:dashboard:login-attempts`
    return [
      `${base}:client:${client}`,
      `${base}:overall`,
      `${base}:refused:client:${client}`,
      `${base}:refused:overall`,
    ]
  }

  /** Takes one attempt for `client` (counted as failed until `succeeded`), or says why not. */
  async attempt(client: string): Promise<LoginTurn> {
    const attempt = randomUUID()
    const [scope, waitMs, first] = (await ATTEMPT.run(this.redis, this.keys(client), [
      this.now(),
      this.limits.windowSeconds * 1000,
      this.limits.perClient,
      this.limits.overall,
      attempt,
    ])) as [string, number, number]
    if (scope === 'allowed') return { allowed: true, attempt }
    return {
      allowed: false,
      scope: scope === 'client' ? 'client' : 'overall',
      retryAfterSeconds: Math.max(1, Math.ceil(Number(waitMs) / 1000)),
      firstRefusal: Number(first) === 1,
    }
  }

  /** The attempt logged in: it no longer counts as a failure. */
  async succeeded(client: string, attempt: string): Promise<void> {
    const [clientKey, overallKey] = this.keys(client)
    await this.redis.multi().zrem(clientKey!, attempt).zrem(overallKey!, attempt).exec()
  }
}
