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
 * TTL renewed on use.
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
  ) {}

  private key(id: string): string {
    return `${this.prefix}:dashboard:session:${createHash('sha256').update(id).digest('hex')}`
  }

  async create(user: DashboardUser): Promise<DashboardSession> {
    const id = randomToken()
    const stored = { user, csrf: randomToken(), createdAt: new Date().toISOString() }
    await this.redis.set(this.key(id), JSON.stringify(stored), 'EX', this.ttlSeconds)
    return { id, ...stored }
  }

  /** The session, its TTL renewed; undefined when unknown, expired or unreadable. */
  async get(id: string): Promise<DashboardSession | undefined> {
    const raw = await this.redis.getex(this.key(id), 'EX', this.ttlSeconds)
    if (!raw) return undefined
    try {
      const parsed = StoredSession.safeParse(JSON.parse(raw))
      return parsed.success ? { id, ...parsed.data } : undefined
    } catch {
      return undefined
    }
  }

  async destroy(id: string): Promise<void> {
    await this.redis.del(this.key(id))
  }
}
