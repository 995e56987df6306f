import { randomBytes } from 'node:crypto'
import type { RedisClient } from '../queue/connection.js'
import { LuaScript } from '../queue/lua-script.js'
import { GroupState } from './alert-group.js'

/** Thrown when the group's lock is held by another delivery past the wait, or was lost. */
export class GroupBusyError extends Error {
  override name = 'GroupBusyError'
}

// Writes only while the caller still holds the lock: a delivery that stalled past its lock can
// never overwrite what the next holder recorded.
const SAVE_IF_HOLDER = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
return 1`)
const RENEW_IF_HOLDER = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])`)
const RELEASE_IF_HOLDER = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])`)

export interface AlertGroupStoreOptions {
  redis: RedisClient
  /** Key prefix with its `{hash tag}`: a group's record and lock share a slot. */
  prefix: string
  /** How long a lock lives without renewal; renewed every third of it while held. Default 30 s. */
  lockTtlMs?: number
  /** How long a delivery waits for another delivery of the same group. Default 10 s. */
  waitMs?: number
}

/** The group record, read and written only under the group's lock. */
export interface HeldGroup {
  state: GroupState | undefined
  /** Stores `state`; throws GroupBusyError when the lock was lost meanwhile. */
  save(state: GroupState): Promise<void>
}

/**
 * One record per alert group (`<prefix>:alerts:<gid>`, JSON, kept until deleted) and a lock per
 * group (`<prefix>:alerts:<gid>:lock`, a random token with a TTL, renewed while held, released
 * only by its holder). Two Alertmanagers delivering the same group at once take turns.
 *
 * @example
 *   await store.withGroup(gid, async (held) => { await held.save(next) })
 */
export class AlertGroupStore {
  private readonly lockTtlMs: number
  private readonly waitMs: number

  constructor(private readonly opts: AlertGroupStoreOptions) {
    this.lockTtlMs = opts.lockTtlMs ?? 30_000
    this.waitMs = opts.waitMs ?? 10_000
  }

  private key(gid: string): string {
    return `${this.opts.prefix}:alerts:${gid}`
  }

  /** The stored record of a group, for inspection (the CLI, tests). */
  async read(gid: string): Promise<GroupState | undefined> {
    const raw = await this.opts.redis.get(this.key(gid))
    return raw === null ? undefined : GroupState.parse(JSON.parse(raw))
  }

  async withGroup<T>(gid: string, fn: (held: HeldGroup) => Promise<T>): Promise<T> {
    const { redis } = this.opts
    const recordKey = this.key(gid)
    const lockKey = `${recordKey}:lock`
    const token = randomBytes(16).toString('hex')
    const deadline = Date.now() + this.waitMs
    while ((await redis.set(lockKey, token, 'PX', this.lockTtlMs, 'NX')) !== 'OK') {
      if (Date.now() > deadline)
        throw new GroupBusyError(`another delivery of this alert group held it for over ${this.waitMs} ms`)
      await new Promise((r) => setTimeout(r, 25))
    }
    let lost = false
    const renew = setInterval(() => {
      RENEW_IF_HOLDER.run(redis, [lockKey], [token, this.lockTtlMs]).then(
        (ok) => void (lost ||= ok === 0),
        () => undefined,
      )
    }, this.lockTtlMs / 3)
    try {
      const raw = await redis.get(recordKey)
      const held: HeldGroup = {
        state: raw === null ? undefined : GroupState.parse(JSON.parse(raw)),
        save: async (state) => {
          const ok = lost
            ? 0
            : await SAVE_IF_HOLDER.run(redis, [lockKey, recordKey], [token, JSON.stringify(state)])
          if (ok === 0) {
            lost = true
            throw new GroupBusyError('the alert group lock expired while this delivery held it')
          }
          held.state = state
        },
      }
      return await fn(held)
    } finally {
      clearInterval(renew)
      await RELEASE_IF_HOLDER.run(redis, [lockKey], [token]).catch(() => undefined)
    }
  }
}
