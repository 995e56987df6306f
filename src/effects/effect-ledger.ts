import type { RedisClient } from '../queue/connection.js'
import { DEFAULT_PREFIX } from '../queue/connection.js'

/** What the ledger knows about a keyed comment. */
export type LedgerEntry =
  | { state: 'posted'; commentId: number }
  | { state: 'pending' }
  /** A keyed effect that is not a comment (a commit status) was applied. */
  | { state: 'done' }
  | undefined

/**
 * Remembers which keyed comments were posted, and their ids, so re-applying effects after a crash
 * posts nothing twice and the reporter can edit the ack comment of a job in place.
 * `markPending` is written just before posting: if a crash lands between posting and `set`, the
 * executor sees `pending` and looks for the comment's hidden key marker before posting again.
 *
 * @example
 *   const entry = await ledger.get('c:d1:7:ack_0') // { state: 'posted', commentId: 42 }
 */
export interface EffectLedger {
  get(key: string): Promise<LedgerEntry>
  markPending(key: string): Promise<void>
  set(key: string, commentId: number): Promise<void>
  /** Records that a keyed effect other than a comment (a commit status) was applied. */
  mark(key: string): Promise<void>
}

/** Default time a comment key is remembered: longer than any job waits for approval or retries. */
export const DEFAULT_LEDGER_TTL_SECONDS = 30 * 24 * 3600

function decode(raw: string | null | undefined): LedgerEntry {
  if (raw === null || raw === undefined) return undefined
  if (raw === 'pending') return { state: 'pending' }
  if (raw === 'done') return { state: 'done' }
  const id = Number(raw)
  return Number.isSafeInteger(id) && id > 0 ? { state: 'posted', commentId: id } : undefined
}

/**
 * The ledger in Redis, keys `{uw}:ledger:<key>` with a TTL.
 *
 * @example
 *   const ledger = new RedisEffectLedger(createRedis(url, 'producer'))
 */
export class RedisEffectLedger implements EffectLedger {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = DEFAULT_PREFIX,
    private readonly ttlSeconds = DEFAULT_LEDGER_TTL_SECONDS,
  ) {}

  private k(key: string): string {
    return `${this.prefix}:ledger:${key}`
  }

  async get(key: string): Promise<LedgerEntry> {
    return decode(await this.redis.get(this.k(key)))
  }

  async markPending(key: string): Promise<void> {
    // NX: never downgrade a posted id to pending.
    await this.redis.set(this.k(key), 'pending', 'EX', this.ttlSeconds, 'NX')
  }

  async set(key: string, commentId: number): Promise<void> {
    await this.redis.set(this.k(key), String(commentId), 'EX', this.ttlSeconds)
  }

  async mark(key: string): Promise<void> {
    await this.redis.set(this.k(key), 'done', 'EX', this.ttlSeconds)
  }
}

/**
 * The ledger in memory, for tests and dry runs.
 *
 * @example
 *   const ledger = new MemoryEffectLedger()
 */
export class MemoryEffectLedger implements EffectLedger {
  readonly entries = new Map<string, string>()

  get(key: string): Promise<LedgerEntry> {
    return Promise.resolve(decode(this.entries.get(key)))
  }

  markPending(key: string): Promise<void> {
    if (!this.entries.has(key)) this.entries.set(key, 'pending')
    return Promise.resolve()
  }

  set(key: string, commentId: number): Promise<void> {
    this.entries.set(key, String(commentId))
    return Promise.resolve()
  }

  mark(key: string): Promise<void> {
    this.entries.set(key, 'done')
    return Promise.resolve()
  }
}
