import { randomUUID } from 'node:crypto'
import type { RedisClient } from '../../queue/connection.js'
import type { BreakerConfig } from '../../houses/harness-config.js'
import { LuaScript } from '../../queue/lua-script.js'

export type CircuitState = 'closed' | 'open' | 'half-open'

/** Whether a call may run now; `probe` marks the one call let through a half-open circuit. */
export type BreakerDecision =
  { allowed: true; probe: boolean } | { allowed: false; state: 'open' | 'half-open'; retryAt: number }

/**
 * A circuit breaker keyed by tool × house. closed → open after `failureThreshold` failures within
 * `windowMs`; open fails fast until `cooldownMs` has passed; then half-open lets exactly one probe
 * through (its lease lasts `cooldownMs`, so a crashed probe does not wedge the circuit); the
 * probe's success closes the circuit, its failure opens it again. Only failures of the tool's
 * dependencies are recorded; a call that failed through its caller's fault says nothing about the
 * tool, so it is not recorded, and as a probe it is `release`d (see src/harness/attempts/fault.ts).
 */
export interface CircuitBreaker {
  acquire(key: string, now?: number): Promise<BreakerDecision>
  record(key: string, ok: boolean, probe: boolean, now?: number): Promise<void>
  /** Ends a call that neither succeeded nor failed for the tool: a half-open probe's slot is freed at once. */
  release(key: string, probe: boolean, now?: number): Promise<void>
  state(key: string, now?: number): Promise<{ state: CircuitState; failures: number; retryAt?: number }>
}

interface Slot {
  state: CircuitState
  failures: number[]
  openUntil: number
  probeUntil: number
}

/**
 * The breaker for one process.
 *
 * @example
 *   const b = new MemoryCircuitBreaker({ failureThreshold: 5, windowMs: 60_000, cooldownMs: 30_000 })
 */
export class MemoryCircuitBreaker implements CircuitBreaker {
  private readonly slots = new Map<string, Slot>()

  constructor(private readonly config: BreakerConfig) {}

  private slot(key: string): Slot {
    let s = this.slots.get(key)
    if (!s) {
      s = { state: 'closed', failures: [], openUntil: 0, probeUntil: 0 }
      this.slots.set(key, s)
    }
    return s
  }

  async acquire(key: string, now = Date.now()): Promise<BreakerDecision> {
    const s = this.slots.get(key)
    if (!s || s.state === 'closed') return { allowed: true, probe: false }
    if (s.state === 'open' && now < s.openUntil)
      return { allowed: false, state: 'open', retryAt: s.openUntil }
    if (s.state === 'half-open' && now < s.probeUntil) {
      return { allowed: false, state: 'half-open', retryAt: s.probeUntil }
    }
    s.state = 'half-open'
    s.probeUntil = now + this.config.cooldownMs
    return { allowed: true, probe: true }
  }

  async record(key: string, ok: boolean, probe: boolean, now = Date.now()): Promise<void> {
    const s = this.slot(key)
    if (s.state === 'half-open') {
      if (!probe) return
      if (ok) Object.assign(s, { state: 'closed', failures: [], openUntil: 0, probeUntil: 0 })
      else Object.assign(s, { state: 'open', failures: [], openUntil: now + this.config.cooldownMs })
      return
    }
    if (s.state !== 'closed' || ok) return
    s.failures = s.failures.filter((t) => t > now - this.config.windowMs)
    s.failures.push(now)
    if (s.failures.length >= this.config.failureThreshold) {
      Object.assign(s, { state: 'open', failures: [], openUntil: now + this.config.cooldownMs })
    }
  }

  async release(key: string, probe: boolean): Promise<void> {
    const s = this.slots.get(key)
    if (probe && s?.state === 'half-open') s.probeUntil = 0
  }

  async state(key: string, now = Date.now()) {
    const s = this.slot(key)
    const failures = s.failures.filter((t) => t > now - this.config.windowMs).length
    if (s.state === 'open') return { state: s.state, failures, retryAt: s.openUntil }
    if (s.state === 'half-open') return { state: s.state, failures, retryAt: s.probeUntil }
    return { state: s.state, failures }
  }
}

// KEYS[1] hash {state, openUntil, probeUntil}; KEYS[2] zset of failure times.
// ARGV: now, cooldownMs. Returns {allowed(0/1), probe(0/1) | state, retryAt}.
const ACQUIRE = new LuaScript(`
local st = redis.call('HMGET', KEYS[1], 'state', 'openUntil', 'probeUntil')
local state = st[1] or 'closed'
local now = tonumber(ARGV[1])
if state == 'closed' then return {1, 0} end
if state == 'open' and now < tonumber(st[2]) then return {0, 'open', st[2]} end
if state == 'half-open' and now < tonumber(st[3]) then return {0, 'half-open', st[3]} end
redis.call('HSET', KEYS[1], 'state', 'half-open', 'probeUntil', tostring(now + tonumber(ARGV[2])))
return {1, 1}
`)

// ARGV: now, ok(0/1), probe(0/1), windowMs, threshold, cooldownMs, unique member, ttlMs.
const RECORD = new LuaScript(`
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
local now = tonumber(ARGV[1])
local cooldown = tonumber(ARGV[6])
if state == 'half-open' then
  if ARGV[3] ~= '1' then return 0 end
  if ARGV[2] == '1' then
    redis.call('DEL', KEYS[1], KEYS[2])
  else
    redis.call('DEL', KEYS[2])
    redis.call('HSET', KEYS[1], 'state', 'open', 'openUntil', tostring(now + cooldown))
    redis.call('PEXPIRE', KEYS[1], ARGV[8])
  end
  return 1
end
if state ~= 'closed' or ARGV[2] == '1' then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', tostring(now - tonumber(ARGV[4])))
redis.call('ZADD', KEYS[2], now, ARGV[7])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'state', 'open', 'openUntil', tostring(now + cooldown))
  redis.call('PEXPIRE', KEYS[1], ARGV[8])
end
return 1
`)

// Frees the half-open probe slot so the next call probes; any other state is left alone.
const RELEASE = new LuaScript(`
if redis.call('HGET', KEYS[1], 'state') == 'half-open' then
  redis.call('HSET', KEYS[1], 'probeUntil', '0')
  return 1
end
return 0
`)

/**
 * The breaker shared by every worker through Redis; each transition is one Lua script, so two
 * workers can never both take the half-open probe. Keys: `<prefix>:breaker:<house>:<tool>`.
 *
 * @example
 *   const b = new RedisCircuitBreaker(redis, config)   // prefix {uw}
 */
export class RedisCircuitBreaker implements CircuitBreaker {
  /** Until when (by the callers' clock) each key was last seen closed; see `closedCacheMs`. */
  private readonly closedUntil = new Map<string, number>()
  /** Failures recorded per key by this process, so an answer read before one is not cached after it. */
  private readonly failuresSeen = new Map<string, number>()

  constructor(
    private readonly redis: RedisClient,
    private readonly config: BreakerConfig,
    private readonly prefix = '{uw}',
  ) {}

  private keys(key: string): [string, string] {
    const k = `${this.prefix}:breaker:${key}`
    return [k, `${k}:failures`]
  }

  async acquire(key: string, now = Date.now()): Promise<BreakerDecision> {
    const until = this.closedUntil.get(key)
    if (until !== undefined && now >= until - this.config.closedCacheMs && now < until)
      return { allowed: true, probe: false }
    this.closedUntil.delete(key)
    const [h, z] = this.keys(key)
    const seen = this.failuresSeen.get(key) ?? 0
    const res = (await ACQUIRE.run(this.redis, [h, z], [now, this.config.cooldownMs])) as (number | string)[]
    if (res[0] === 1) {
      // Allowed without being the probe only happens in the closed state. Not trusted when this
      // process recorded a failure while the answer was on its way (it may have opened the circuit).
      const failedMeanwhile = (this.failuresSeen.get(key) ?? 0) !== seen
      if (res[1] !== 1 && this.config.closedCacheMs > 0 && !failedMeanwhile)
        this.closedUntil.set(key, now + this.config.closedCacheMs)
      return { allowed: true, probe: res[1] === 1 }
    }
    return { allowed: false, state: res[1] === 'open' ? 'open' : 'half-open', retryAt: Number(res[2]) }
  }

  async record(key: string, ok: boolean, probe: boolean, now = Date.now()): Promise<void> {
    // A success that is not the half-open probe changes nothing in any state (RECORD returns 0
    // for it): skipping the script saves a round trip on every successful call.
    if (ok && !probe) return
    // A failure may open the circuit: ask Redis again on the next call.
    this.closedUntil.delete(key)
    this.failuresSeen.set(key, (this.failuresSeen.get(key) ?? 0) + 1)
    const [h, z] = this.keys(key)
    // State outlives the cooldown a little so an idle open circuit still half-opens, then expires.
    const ttl = this.config.cooldownMs * 4 + this.config.windowMs
    await RECORD.run(
      this.redis,
      [h, z],
      [
        now,
        ok ? 1 : 0,
        probe ? 1 : 0,
        this.config.windowMs,
        this.config.failureThreshold,
        this.config.cooldownMs,
        `${now}:${randomUUID()}`,
        ttl,
      ],
    )
  }

  async release(key: string, probe: boolean): Promise<void> {
    if (!probe) return
    const [h] = this.keys(key)
    await RELEASE.run(this.redis, [h], [])
  }

  async state(key: string, now = Date.now()) {
    const [h, z] = this.keys(key)
    const [st, count] = await Promise.all([
      this.redis.hmget(h, 'state', 'openUntil', 'probeUntil'),
      this.redis.zcount(z, `(${now - this.config.windowMs}`, '+inf'),
    ])
    const state = (st[0] ?? 'closed') as CircuitState
    if (state === 'open') return { state, failures: count, retryAt: Number(st[1]) }
    if (state === 'half-open') return { state, failures: count, retryAt: Number(st[2]) }
    return { state, failures: count }
  }
}

/**
 * The stored state of many circuits of a `RedisCircuitBreaker` (keys `<house>:<tool>`), in one
 * pipeline: for the metrics, which show every house × tool at each scrape. A circuit without
 * stored state is closed.
 *
 * @example
 *   await circuitStates(redis, '{uw}', ['ezra:http_get']) // ['closed']
 */
export async function circuitStates(
  redis: RedisClient,
  prefix: string,
  keys: readonly string[],
): Promise<CircuitState[]> {
  if (keys.length === 0) return []
  const pipeline = redis.pipeline()
  for (const key of keys) pipeline.hget(`${prefix}:breaker:${key}`, 'state')
  const replies = (await pipeline.exec()) ?? []
  return keys.map((key, i) => {
    const [err, state] = replies[i] ?? [new Error(`no reply for ${key}`), null]
    if (err) throw err
    return state === 'open' || state === 'half-open' ? state : 'closed'
  })
}
