import type { RedisClient } from '../queue/connection.js'
import type { HouseLiveness } from '../commands-core/command-spec.js'

function keys(prefix: string, house: string) {
  return {
    set: `${prefix}:hb:${house}`,
    last: `${prefix}:hb-last:${house}`,
    worker: (id: string) => `${prefix}:hb:${house}:${id}`,
  }
}

/**
 * Writes a worker's heartbeat: a key `<prefix>:hb:<house>:<worker>` that lives `ttlMs`, and the
 * worker's id in the house's set (scored by expiry) so readers can find the keys.
 *
 * @example
 *   await beat(redis, '{uw}', 'bezalel', 'host-1:4242', 15_000)
 */
export async function beat(
  redis: RedisClient,
  prefix: string,
  house: string,
  workerId: string,
  ttlMs: number,
  now = Date.now(),
): Promise<void> {
  const k = keys(prefix, house)
  await redis
    .multi()
    .set(k.worker(workerId), String(now), 'PX', ttlMs)
    .set(k.last, String(now))
    .zadd(k.set, now + ttlMs, workerId)
    .zremrangebyscore(k.set, '-inf', now)
    .exec()
}

/** Removes a worker's heartbeat at a clean exit, so `/houses` does not count it for a TTL. */
export async function unbeat(
  redis: RedisClient,
  prefix: string,
  house: string,
  workerId: string,
): Promise<void> {
  const k = keys(prefix, house)
  await redis.multi().del(k.worker(workerId)).zrem(k.set, workerId).exec()
}

/**
 * How many workers of a house have a live heartbeat, and the newest one's time.
 *
 * @example
 *   (await liveness(redis, '{uw}', 'bezalel')).alive // true while a worker beats
 */
export async function liveness(
  redis: RedisClient,
  prefix: string,
  house: string,
  now = Date.now(),
): Promise<HouseLiveness> {
  const k = keys(prefix, house)
  const ids = await redis.zrangebyscore(k.set, now, '+inf')
  const seen = ids.length > 0 ? await redis.mget(...ids.map((id) => k.worker(id))) : []
  const times = seen.filter((v): v is string => v !== null).map(Number)
  // With no live worker, say when one was last seen (a key without TTL).
  const lastRaw = times.length > 0 ? undefined : await redis.get(k.last)
  const last = times.length > 0 ? Math.max(...times) : lastRaw ? Number(lastRaw) : undefined
  return {
    alive: times.length > 0,
    workers: times.length,
    lastSeen: last === undefined ? undefined : new Date(last).toISOString(),
  }
}
