import type { RedisClient } from '../queue/connection.js'

/** What a house saw when it read a target: the target's digest and when. */
export interface ReadRecord {
  digest: string
  at: string
}

/** Read-before-write memory: the last read (or own write) of each target, per house. */
export interface ReadStore {
  get(house: string, target: string): Promise<ReadRecord | undefined>
  set(house: string, target: string, record: ReadRecord): Promise<void>
}

/** Reads remembered by this process. */
export class MemoryReadStore implements ReadStore {
  private readonly map = new Map<string, ReadRecord>()
  async get(house: string, target: string) {
    return this.map.get(`${house}\u0000${target}`)
  }
  async set(house: string, target: string, record: ReadRecord) {
    this.map.set(`${house}\u0000${target}`, record)
  }
}

/** Reads shared by every worker of a house: hash `<prefix>:rbw:<house>`, field = target. */
export class RedisReadStore implements ReadStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = '{uw}',
  ) {}
  async get(house: string, target: string) {
    const raw = await this.redis.hget(`${this.prefix}:rbw:${house}`, target)
    if (!raw) return undefined
    try {
      const v = JSON.parse(raw) as ReadRecord
      return typeof v.digest === 'string' && typeof v.at === 'string' ? v : undefined
    } catch {
      return undefined
    }
  }
  async set(house: string, target: string, record: ReadRecord) {
    await this.redis.hset(`${this.prefix}:rbw:${house}`, target, JSON.stringify(record))
  }
}
