import type { RedisClient } from '../queue/connection.js'
import { DEFAULT_PREFIX } from '../queue/connection.js'
import { LuaScript } from '../queue/lua-script.js'

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
 *
 * Posting is claimed first (`claimPost`): the key becomes `pending`, held by one poster for
 * `POST_LEASE_MS`. If a crash lands between posting and `set`, whoever comes next sees `pending`
 * and looks for the comment's hidden key marker before posting again. The holder makes two
 * handlers of the same event (a router taken over while the first still runs it, after its lock
 * expired in a Redis failover or an event-loop stall) post once: the second is refused until the
 * first has posted, released, or is presumed dead (its lease ran out). A job's pending commit
 * statuses are claimed the same way, then marked `done`.
 *
 * @example
 *   const entry = await ledger.get('c:d1:7:ack_0') // { state: 'posted', commentId: 42 }
 */
export interface EffectLedger {
  get(key: string): Promise<LedgerEntry>
  /**
   * Whether `owner` may post the comment now: `fresh` when the key was free or `owner` already
   * holds it; `reclaimed` when it replaced a `pending` mark that was released (a failed post that
   * may have reached Gitea all the same) or whose holder's lease ran out: the caller must look for
   * the comment's marker again before posting. False when it is posted or marked done, or another
   * poster holds it.
   */
  claimPost(key: string, owner: string): Promise<PostClaim>
  /**
   * After a failed post (which may have reached Gitea all the same): the key stays `pending`, so
   * the next poster looks for the marker first, but no longer held, so it need not wait the lease.
   */
  releasePost(key: string, owner: string): Promise<void>
  set(key: string, commentId: number): Promise<void>
  /** Records that a keyed effect other than a comment (a commit status) was applied. */
  mark(key: string): Promise<void>
}

/** What `claimPost` answers. */
export type PostClaim = 'fresh' | 'reclaimed' | false

/** Default time a comment key is remembered: longer than any job waits for approval or retries. */
export const DEFAULT_LEDGER_TTL_SECONDS = 30 * 24 * 3600

/**
 * How long a claimed post is held before another poster may presume its holder dead. It must
 * outlast the longest `createComment` the Gitea adapter can make, or a slow post would be doubled:
 * with its defaults (DEFAULT_RETRY_POLICY, GITEA_REQUEST_TIMEOUT_MS) 4 attempts of up to 30 s,
 * up to 3 Retry-After sleeps of up to 30 s and 3 backoffs of up to 8 s, 234 s in all (a test holds
 * the lease to that). The cost of a long lease: a comment whose poster died between claim and
 * post waits this long before another takes it over.
 */
export const POST_LEASE_MS = 600_000

// A pending mark is `pending` (released, or written before owners existed) or
// `pending:<owner>:<ms since epoch, by the Redis clock>`.
function decode(raw: string | null | undefined): LedgerEntry {
  if (raw === null || raw === undefined) return undefined
  if (raw === 'pending' || raw.startsWith('pending:')) return { state: 'pending' }
  if (raw === 'done') return { state: 'done' }
  const id = Number(raw)
  return Number.isSafeInteger(id) && id > 0 ? { state: 'posted', commentId: id } : undefined
}

// KEYS: the ledger key. ARGV: owner, lease ms, TTL s. The Redis clock, so posters on hosts whose
// clocks differ agree on a lease. 0: refused; 1: fresh (free, or the owner's own); 2: reclaimed (a
// released, legacy or expired `pending`).
const CLAIM_POST = new LuaScript(`
local v = redis.call('GET', KEYS[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local answer = 1
if v then
  if string.sub(v, 1, 7) ~= 'pending' then return 0 end
  local owner, since = string.match(v, '^pending:([^:]+):(%d+)$')
  if owner and owner ~= ARGV[1] and now - tonumber(since) < tonumber(ARGV[2]) then return 0 end
  if owner ~= ARGV[1] then answer = 2 end
end
redis.call('SET', KEYS[1], 'pending:' .. ARGV[1] .. ':' .. now, 'EX', ARGV[3])
return answer
`)

// KEYS: the ledger key. ARGV: owner. Only the holder's own mark is released.
const RELEASE_POST = new LuaScript(`
local v = redis.call('GET', KEYS[1])
if v and string.match(v, '^pending:([^:]+):') == ARGV[1] then
  redis.call('SET', KEYS[1], 'pending', 'KEEPTTL')
end
return 1
`)

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

  async claimPost(key: string, owner: string): Promise<PostClaim> {
    const answer = Number(
      await CLAIM_POST.run(this.redis, [this.k(key)], [owner, POST_LEASE_MS, this.ttlSeconds]),
    )
    return answer === 1 ? 'fresh' : answer === 2 ? 'reclaimed' : false
  }

  async releasePost(key: string, owner: string): Promise<void> {
    await RELEASE_POST.run(this.redis, [this.k(key)], [owner])
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

  constructor(private readonly now: () => number = Date.now) {}

  get(key: string): Promise<LedgerEntry> {
    return Promise.resolve(decode(this.entries.get(key)))
  }

  claimPost(key: string, owner: string): Promise<PostClaim> {
    const v = this.entries.get(key)
    let answer: PostClaim = 'fresh'
    if (v !== undefined) {
      if (!v.startsWith('pending')) return Promise.resolve(false)
      const [, holder, since] = /^pending:([^:]+):(\d+)$/.exec(v) ?? []
      if (holder !== undefined && holder !== owner && this.now() - Number(since) < POST_LEASE_MS)
        return Promise.resolve(false)
      if (holder !== owner) answer = 'reclaimed'
    }
    this.entries.set(key, `pending:${owner}:${this.now()}`)
    return Promise.resolve(answer)
  }

  releasePost(key: string, owner: string): Promise<void> {
    if (this.entries.get(key)?.startsWith(`pending:${owner}:`)) this.entries.set(key, 'pending')
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
