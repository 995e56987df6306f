import { z } from 'zod'
import type { RedisClient } from '../queue/connection.js'

/** What a running uni-wizard process says of itself in Redis, so others can find and check it. */
export const InstanceInfo = z.object({
  /** `<hostname>:<pid>`, the stem of its worker ids. */
  id: z.string().min(1),
  /** The pieces it runs: `ingress`, `router`, `reporter`, `workers`. */
  pieces: z.array(z.string()),
  /** The houses it runs workers for. */
  houses: z.array(z.string()),
  /** Where its `/health`, `/ready`, `/health/details` and `/metrics` answer, e.g. `http://10.0.0.5:9464`. */
  address: z.string().optional(),
  host: z.string(),
  pid: z.number().int(),
  startedAt: z.string(),
  version: z.string(),
})
export type InstanceInfo = z.infer<typeof InstanceInfo>

function keys(prefix: string) {
  return { set: `${prefix}:instances`, one: (id: string) => `${prefix}:instance:${id}` }
}

/**
 * Writes (or refreshes) an instance's entry: a key that lives `ttlMs`, and its id in the set of
 * instances scored by expiry, as worker heartbeats do. Call it every heartbeat period.
 *
 * @example
 *   await registerInstance(redis, '{uw}', info, 15_000)
 */
export async function registerInstance(
  redis: RedisClient,
  prefix: string,
  info: InstanceInfo,
  ttlMs: number,
  now = Date.now(),
): Promise<void> {
  const k = keys(prefix)
  await redis
    .multi()
    .set(k.one(info.id), JSON.stringify(info), 'PX', ttlMs)
    .zremrangebyscore(k.set, '-inf', now)
    .zadd(k.set, now + ttlMs, info.id)
    .exec()
}

/** Removes an instance's entry at a clean stop. */
export async function unregisterInstance(redis: RedisClient, prefix: string, id: string): Promise<void> {
  const k = keys(prefix)
  await redis.multi().del(k.one(id)).zrem(k.set, id).exec()
}

/**
 * The instances whose entry is alive; entries that no longer parse (another version) are skipped.
 *
 * @example
 *   (await listInstances(redis, '{uw}')).map((i) => i.address)
 */
export async function listInstances(
  redis: RedisClient,
  prefix: string,
  now = Date.now(),
): Promise<InstanceInfo[]> {
  const k = keys(prefix)
  const ids = await redis.zrangebyscore(k.set, now, '+inf')
  if (ids.length === 0) return []
  const raw = await redis.mget(...ids.map((id) => k.one(id)))
  const out: InstanceInfo[] = []
  for (const r of raw) {
    if (r === null) continue
    try {
      const parsed = InstanceInfo.safeParse(JSON.parse(r))
      if (parsed.success) out.push(parsed.data)
    } catch {
      // Not JSON: not ours to read.
    }
  }
  return out
}
