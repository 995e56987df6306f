import type { RedisClient } from '../queue/connection.js'
import type { HouseLiveness } from '../commands-core/command-spec.js'

function keys(prefix: string, house: string) {
  return {
    set: `${prefix}:hb:${house}`,
    last: `${prefix}:hb-last:${house}`,
    worker: (id: string) => `${prefix}:hb:${house}:${id}`,
    degraded: (id: string) => `${prefix}:hb-degraded:${house}:${id}`,
  }
}

/** What one beat changed in the house's set of live workers (for telemetry). */
export interface BeatChange {
  /** This worker was not in the set: it started, or came back after its heartbeat expired. */
  gained: boolean
  /** Other workers whose heartbeat expired, with the time it did; each is seen by one beat only. */
  lost: { worker: string; expiredAt: number }[]
}

/**
 * Writes a worker's heartbeat: a key `<prefix>:hb:<house>:<worker>` that lives `ttlMs`, and the
 * worker's id in the house's set (scored by expiry) so readers can find the keys. The expired
 * ids it removes from the set are read in the same MULTI, so a lost worker is reported by the one
 * beat that removed it. `degraded` (why the worker's INTELLIGENT jobs run as SIMPLE now) lives as
 * long as the beat, in `<prefix>:hb-degraded:<house>:<worker>`, for `/houses`.
 *
 * @example
 *   const { gained, lost } = await beat(redis, '{uw}', 'bezalel', 'host-1:4242', 15_000)
 */
export async function beat(
  redis: RedisClient,
  prefix: string,
  house: string,
  workerId: string,
  ttlMs: number,
  now = Date.now(),
  degraded?: string,
): Promise<BeatChange> {
  const k = keys(prefix, house)
  const multi = redis
    .multi()
    .set(k.worker(workerId), String(now), 'PX', ttlMs)
    .set(k.last, String(now))
    .zrangebyscore(k.set, '-inf', now, 'WITHSCORES')
    .zremrangebyscore(k.set, '-inf', now)
    .zadd(k.set, now + ttlMs, workerId)
  if (degraded === undefined) multi.del(k.degraded(workerId))
  else multi.set(k.degraded(workerId), degraded, 'PX', ttlMs)
  const replies = await multi.exec()
  const expired = (replies?.[2]?.[1] ?? []) as string[]
  const lost: BeatChange['lost'] = []
  for (let i = 0; i + 1 < expired.length; i += 2)
    lost.push({ worker: expired[i] as string, expiredAt: Number(expired[i + 1]) })
  // ZADD answers 1 for a member it added; this worker's own expired entry was just removed above.
  return { gained: replies?.[4]?.[1] === 1, lost }
}

/**
 * Removes a worker's heartbeat at a clean exit, so `/houses` does not count it for a TTL; resolves
 * to whether it was still counted.
 */
export async function unbeat(
  redis: RedisClient,
  prefix: string,
  house: string,
  workerId: string,
): Promise<boolean> {
  const k = keys(prefix, house)
  const replies = await redis
    .multi()
    .del(k.worker(workerId))
    .zrem(k.set, workerId)
    .del(k.degraded(workerId))
    .exec()
  // Whether it was still in the set (an expired one was already reported lost by another beat).
  return replies?.[1]?.[1] === 1
}

/**
 * How many workers of a house have a live heartbeat, the newest one's time, and which of them run
 * INTELLIGENT jobs as SIMPLE now, and why.
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
  const why = ids.length > 0 ? await redis.mget(...ids.map((id) => k.degraded(id))) : []
  const degraded = ids.flatMap((worker, i) =>
    seen[i] !== null && why[i] ? [{ worker, reason: why[i] as string }] : [],
  )
  // With no live worker, say when one was last seen (a key without TTL).
  const lastRaw = times.length > 0 ? undefined : await redis.get(k.last)
  const last = times.length > 0 ? Math.max(...times) : lastRaw ? Number(lastRaw) : undefined
  return {
    alive: times.length > 0,
    workers: times.length,
    lastSeen: last === undefined ? undefined : new Date(last).toISOString(),
    ...(degraded.length > 0 ? { degraded } : {}),
  }
}
