import { createHash, randomBytes } from 'node:crypto'
import { z } from 'zod'
import type { RedisClient } from '../queue/connection.js'
import { DashboardRole } from './dashboard-config.js'

/** Who is logged in, as a session keeps it. */
export const DashboardUser = z.object({
  login: z.string().min(1),
  role: DashboardRole,
  /** How they logged in. */
  via: z.enum(['oauth', 'token', 'sandbox']),
  /** A token login: which configured token (its keyed fingerprint), so the session ends when the token goes. */
  token: z.string().optional(),
  /** Gitea said `is_admin` at login (Login with Gitea). */
  siteAdmin: z.boolean().optional(),
  /** A viewer token configured with `seeAll` (derived from the config on each request, not stored). */
  seeAll: z.boolean().optional(),
})
export type DashboardUser = z.infer<typeof DashboardUser>

const StoredSession = z.object({
  user: DashboardUser,
  /** The per-session token every form carries (besides the Origin check). */
  csrf: z.string().min(32),
  createdAt: z.string(),
})
export type DashboardSession = z.infer<typeof StoredSession> & { id: string }

/** A random URL-safe token of `bytes` bytes. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url')
}

/**
 * Dashboard sessions in Redis: the browser holds only an opaque random id (in a signed cookie);
 * Redis holds who it is, under the id's sha256 (a leaked key list names no usable cookie), with a
 * TTL renewed on use, never past `maxSeconds` from its creation.
 *
 * @example
 *   const sessions = new RedisSessions(redis, '{uw}', 12 * 3600)
 *   const s = await sessions.create({ login: 'alice', role: 'admin', via: 'oauth' })
 *   await sessions.get(s.id) // the same session, TTL renewed
 */
export class RedisSessions {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
    /** The absolute lifetime: a session is gone this long after it was created, however active. */
    private readonly maxSeconds = 24 * 3600,
    private readonly now: () => number = Date.now,
  ) {}

  private key(id: string): string {
    return `${this.prefix}:dashboard:session:${createHash('sha256').update(id).digest('hex')}`
  }

  async create(user: DashboardUser): Promise<DashboardSession> {
    const id = randomToken()
    const stored = { user, csrf: randomToken(), createdAt: new Date(this.now()).toISOString() }
    const ttl = Math.min(this.ttlSeconds, this.maxSeconds)
    await this.redis.set(this.key(id), JSON.stringify(stored), 'EX', ttl)
    return { id, ...stored }
  }

  /** The session, its TTL renewed (up to its absolute lifetime); undefined when unknown, expired or unreadable. */
  async get(id: string): Promise<DashboardSession | undefined> {
    const raw = await this.redis.get(this.key(id))
    if (!raw) return undefined
    let parsed
    try {
      parsed = StoredSession.safeParse(JSON.parse(raw))
    } catch {
      return undefined
    }
    if (!parsed.success) return undefined
    const left = Math.floor((Date.parse(parsed.data.createdAt) + this.maxSeconds * 1000 - this.now()) / 1000)
    if (!(left > 0)) {
      await this.destroy(id)
      return undefined
    }
    await this.redis.expire(this.key(id), Math.min(this.ttlSeconds, left))
    return { id, ...parsed.data }
  }

  async destroy(id: string): Promise<void> {
    await this.redis.del(this.key(id))
  }
}
