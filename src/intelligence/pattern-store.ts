import type { RedisClient } from '../queue/connection.js'
import { LuaScript } from '../queue/lua-script.js'
import { ANY_SHAPE } from './arg-shape.js'
import {
  addOutcome,
  CHANGE_MIN_RECENT,
  DAY_MS,
  DAYS_KEPT,
  durationBucket,
  emptyStats,
  isRun,
  NEGLIGIBLE,
  statsFromHash,
  type Decay,
  type Outcome,
  type PatternStats,
} from './pattern-stats.js'

export type { Decay, Outcome, PatternStats } from './pattern-stats.js'

/** Where one record lives: a house, a tool (or `agent.<task>`), an argument shape. */
export interface PatternKey {
  house: string
  tool: string
  /** `argShape(args)`; absent or `*`: the house × tool total. */
  shape?: string
}

/** A house × tool's records, as stored (not yet decayed to now). */
export interface PatternRead {
  /** Every call of the tool on the house, whatever its arguments (and the per-day counts). */
  total: PatternStats
  /** The calls of the asked shape only; absent when no shape was asked. */
  shape?: PatternStats
}

/**
 * Outcomes per house × tool × argument shape, kept as exponentially decayed counts (the half-life
 * is the store's). Each outcome updates the shape's record and the house × tool total.
 */
export interface PatternStore {
  record(key: PatternKey, outcome: Outcome, now?: number): Promise<void>
  read(key: PatternKey): Promise<PatternRead>
  /** Every house × tool with a record, for `/houses`, metrics and velocity. */
  list(): Promise<{ house: string; tool: string }[]>
}

const shapeOf = (key: PatternKey) => (key.shape === undefined || key.shape === '' ? ANY_SHAPE : key.shape)

/** Outcomes remembered by this process (a library harness without Redis; the predict bench). */
export class MemoryPatternStore implements PatternStore {
  private readonly map = new Map<string, PatternStats>()
  constructor(
    private readonly decay: Decay,
    private readonly now: () => number = Date.now,
  ) {}
  async record(key: PatternKey, outcome: Outcome, now = this.now()) {
    const keys = [`${key.house}\t${key.tool}\t${ANY_SHAPE}`]
    if (shapeOf(key) !== ANY_SHAPE) keys.push(`${key.house}\t${key.tool}\t${shapeOf(key)}`)
    for (const [i, k] of keys.entries())
      this.map.set(k, addOutcome(this.map.get(k) ?? emptyStats(now), outcome, now, this.decay, i === 0))
  }
  async read(key: PatternKey) {
    const total = this.map.get(`${key.house}\t${key.tool}\t${ANY_SHAPE}`) ?? emptyStats()
    if (shapeOf(key) === ANY_SHAPE) return { total }
    return { total, shape: this.map.get(`${key.house}\t${key.tool}\t${shapeOf(key)}`) ?? emptyStats() }
  }
  async list() {
    return [...this.map.keys()]
      .filter((k) => k.endsWith(`\t${ANY_SHAPE}`))
      .map((k) => {
        const [house = '', tool = ''] = k.split('\t')
        return { house, tool }
      })
  }
}

// Decays every count of the hash to `now` (fields other than `t`, `c` and `day:*`; the fast counts
// `fs`/`ff` with the fast half-life), drops what decayed to nothing and per-day counts older than
// the kept days, then adds the outcome and runs the change detector (`changeScore`, `addOutcome`:
// the same arithmetic, tested for parity). One script per key set, so two workers recording at once
// never lose an update. ARGV: now, half-life ms, TTL ms, run (1/0), ok (1/0), duration bucket,
// failure kind or '', retried kinds (comma list), day, days kept, index member, negligible, fast
// half-life ms, change z (negative: never), recent weight the detector needs.
const RECORD = new LuaScript(`
local now = tonumber(ARGV[1])
local half = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local isRun = ARGV[4] == '1'
local ok = ARGV[5] == '1'
local day = tonumber(ARGV[9])
local keep = tonumber(ARGV[10])
local tiny = tonumber(ARGV[12])
local fastHalf = tonumber(ARGV[13])
local changeZ = tonumber(ARGV[14])
local minRecent = tonumber(ARGV[15])
local function fmt(v) return string.format('%.17g', v) end
local function moments(s, f)
  local a = 1 + s
  local n = a + 1 + f
  return a / n, a * (n - a) / (n * n * (n + 1))
end
local function update(key, withDays)
  local h = redis.call('HGETALL', key)
  local t = 0
  for i = 1, #h, 2 do
    if h[i] == 't' then t = tonumber(h[i + 1]) or 0 end
  end
  local f = 1
  local fast = 1
  if now > t then
    f = math.pow(0.5, (now - t) / half)
    fast = math.pow(0.5, (now - t) / fastHalf)
  end
  local counts = { s = 0, f = 0, fs = 0, ff = 0 }
  local sets = {}
  local dels = {}
  for i = 1, #h, 2 do
    local k = h[i]
    if string.sub(k, 1, 4) == 'day:' then
      local d = tonumber(string.match(k, '^day:(%d+):'))
      if d == nil or d <= day - keep then table.insert(dels, k) end
    elseif k ~= 't' and k ~= 'c' then
      local by = f
      if k == 'fs' or k == 'ff' then by = fast end
      local v = (tonumber(h[i + 1]) or 0) * by
      if by < 1 and v < tiny then
        table.insert(dels, k)
        v = 0
      elseif by < 1 then
        table.insert(sets, k)
        table.insert(sets, fmt(v))
      end
      if counts[k] ~= nil then counts[k] = v end
    end
  end
  if #dels > 0 then redis.call('HDEL', key, unpack(dels)) end
  if #sets > 0 then redis.call('HSET', key, unpack(sets)) end
  if now > t then redis.call('HSET', key, 't', ARGV[1]) end
  if not ok and ARGV[7] ~= '' then redis.call('HINCRBYFLOAT', key, 'k:' .. ARGV[7], 1) end
  if isRun then
    local s1 = tonumber(redis.call('HINCRBYFLOAT', key, ok and 's' or 'f', 1))
    local fast1 = tonumber(redis.call('HINCRBYFLOAT', key, ok and 'fs' or 'ff', 1))
    if ok then
      counts.s = s1
      counts.fs = fast1
    else
      counts.f = s1
      counts.ff = fast1
    end
    if changeZ >= 0 and counts.fs + counts.ff >= minRecent then
      local rm, rv = moments(counts.fs, counts.ff)
      local om, ov = moments(math.max(0, counts.s - counts.fs), math.max(0, counts.f - counts.ff))
      if math.abs(rm - om) / math.sqrt(rv + ov) > changeZ then
        redis.call('HSET', key, 's', fmt(counts.fs), 'f', fmt(counts.ff), 'c', ARGV[1] .. ':' .. fmt(om))
      end
    end
    redis.call('HINCRBYFLOAT', key, 'd:' .. ARGV[6], 1)
    for kind in string.gmatch(ARGV[8], '[^,]+') do
      redis.call('HINCRBYFLOAT', key, 'r:' .. kind .. ':' .. (ok and '1' or '0'), 1)
    end
    if withDays then
      redis.call('HINCRBY', key, 'day:' .. day .. ':n', 1)
      redis.call('HINCRBY', key, 'day:' .. day .. ':s', ok and 1 or 0)
    end
  end
  redis.call('PEXPIRE', key, ttl)
end
update(KEYS[1], true)
if KEYS[3] then update(KEYS[3], false) end
redis.call('SADD', KEYS[2], ARGV[11])
return 1
`)

/**
 * The records every process shares: a hash per house × tool × shape,
 * `<prefix>:intel:<house>:<tool>:<shape>` (the total under shape `*`), and the set
 * `<prefix>:intel:index` of `<house> <tool>` pairs. A record expires when it has decayed to
 * nothing (ten half-lives, at least the kept days), so memory stays bounded by the live houses ×
 * tools × shapes.
 */
export class RedisPatternStore implements PatternStore {
  private readonly ttlMs: number
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly decay: Decay,
    private readonly now: () => number = Date.now,
  ) {
    this.ttlMs = Math.ceil(Math.max(10 * decay.halfLifeMs, DAYS_KEPT * DAY_MS))
  }

  private key(house: string, tool: string, shape: string): string {
    return `${this.prefix}:intel:${house}:${tool}:${shape}`
  }

  private get index(): string {
    return `${this.prefix}:intel:index`
  }

  async record(key: PatternKey, o: Outcome, now = this.now()): Promise<void> {
    const shape = shapeOf(key)
    const keys = [this.key(key.house, key.tool, ANY_SHAPE), this.index]
    if (shape !== ANY_SHAPE) keys.push(this.key(key.house, key.tool, shape))
    await RECORD.run(this.redis, keys, [
      Math.round(now),
      this.decay.halfLifeMs,
      this.ttlMs,
      isRun(o) ? 1 : 0,
      o.ok ? 1 : 0,
      durationBucket(o.durationMs),
      o.ok ? '' : (o.kind ?? ''),
      [...new Set(o.retried ?? [])].join(','),
      Math.floor(now / DAY_MS),
      DAYS_KEPT,
      `${key.house} ${key.tool}`,
      NEGLIGIBLE,
      this.decay.fastHalfLifeMs,
      Number.isFinite(this.decay.changeZ) ? this.decay.changeZ : -1,
      CHANGE_MIN_RECENT,
    ])
  }

  async read(key: PatternKey): Promise<PatternRead> {
    const shape = shapeOf(key)
    if (shape === ANY_SHAPE)
      return { total: statsFromHash(await this.redis.hgetall(this.key(key.house, key.tool, ANY_SHAPE))) }
    const [total, one] = await Promise.all([
      this.redis.hgetall(this.key(key.house, key.tool, ANY_SHAPE)),
      this.redis.hgetall(this.key(key.house, key.tool, shape)),
    ])
    return { total: statsFromHash(total), shape: statsFromHash(one) }
  }

  async list(): Promise<{ house: string; tool: string }[]> {
    const members = await this.redis.smembers(this.index)
    const pairs = members.flatMap((m) => {
      const [house, tool] = m.split(' ')
      return house && tool ? [{ house, tool }] : []
    })
    // A pair whose record expired leaves the index too.
    const alive = await Promise.all(pairs.map((p) => this.redis.exists(this.key(p.house, p.tool, ANY_SHAPE))))
    const gone = pairs.filter((_, i) => alive[i] === 0)
    if (gone.length > 0) await this.redis.srem(this.index, ...gone.map((p) => `${p.house} ${p.tool}`))
    return pairs.filter((_, i) => alive[i] !== 0)
  }
}
