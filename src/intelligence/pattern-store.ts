import type { RedisClient } from '../queue/connection.js'

/** One finished execution, as the pattern store keeps it. */
export interface Outcome {
  ok: boolean
  durationMs: number
}

/** How many recent outcomes are kept per tool × house; older ones fall off (a simple decay). */
export const PATTERN_WINDOW = 200

/** Recent outcomes per tool × house, newest first. */
export interface PatternStore {
  record(house: string, tool: string, outcome: Outcome): Promise<void>
  recent(house: string, tool: string): Promise<Outcome[]>
}

/** Outcomes remembered by this process. */
export class MemoryPatternStore implements PatternStore {
  private readonly map = new Map<string, Outcome[]>()
  async record(house: string, tool: string, outcome: Outcome) {
    const key = `${house}:${tool}`
    const list = this.map.get(key) ?? []
    list.unshift(outcome)
    if (list.length > PATTERN_WINDOW) list.length = PATTERN_WINDOW
    this.map.set(key, list)
  }
  async recent(house: string, tool: string) {
    return [...(this.map.get(`${house}:${tool}`) ?? [])]
  }
}

/** Outcomes shared by every worker: list `<prefix>:patterns:<house>:<tool>` of `1:<ms>` / `0:<ms>`. */
export class RedisPatternStore implements PatternStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = '{uw}',
  ) {}
  async record(house: string, tool: string, outcome: Outcome) {
    const key = `${this.prefix}:patterns:${house}:${tool}`
    await this.redis
      .multi()
      .lpush(key, `${outcome.ok ? 1 : 0}:${Math.round(outcome.durationMs * 1000) / 1000}`)
      .ltrim(key, 0, PATTERN_WINDOW - 1)
      .exec()
  }
  async recent(house: string, tool: string) {
    const items = await this.redis.lrange(`${this.prefix}:patterns:${house}:${tool}`, 0, -1)
    return items.flatMap((s) => {
      const [ok, ms] = s.split(':')
      const durationMs = Number(ms)
      return Number.isFinite(durationMs) ? [{ ok: ok === '1', durationMs }] : []
    })
  }
}
