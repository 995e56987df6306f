import type { RedisClient } from '../queue/connection.js'
import { telemetrySeqKey, telemetrySinkKeys, telemetryStreamKey } from './telemetry-keys.js'

/** What the sink has not yet acknowledged, and what the forwarder recorded. */
export interface SinkBacklog {
  /** The last id the sink acknowledged, its number and when (null: nothing acknowledged yet). */
  acked: { id: string; n: number | null; at: string | null } | null
  /** Retained events after the acknowledged id (all retained ones before the first acknowledgement). */
  depth: number
  /** Age of the oldest of them by Redis's clock, in seconds; 0 when there is none. */
  lagSeconds: number
  oldestUnacked: string | null
  /** Events acknowledged by the sink, since the first forwarder ran. */
  forwarded: number
  /** Gaps found (events trimmed before the sink acknowledged them), and how many events they held. */
  gaps: number
  gapEvents: number
  lastGap: { after: string; before: string; events: number } | null
  /** Who forwards now: the lease's fence number, owner and the milliseconds it still lives. */
  lease: { fence: number; owner: string; ttlMs: number } | null
}

const msOf = (id: string) => Number(id.split('-')[0])

/**
 * Reads the forwarding backlog in a few O(1)/O(log n) commands: the metrics read it at every
 * scrape, `telemetry --status` once. Depth comes from the event numbers (`n`): the newest number
 * minus the acknowledged one, at most the stream's length (events trimmed unforwarded are a gap,
 * not a backlog).
 *
 * @example
 *   const { depth, lagSeconds } = await sinkBacklog(redis, '{uw}')
 */
export async function sinkBacklog(redis: RedisClient, prefix: string): Promise<SinkBacklog> {
  const stream = telemetryStreamKey(prefix)
  const keys = telemetrySinkKeys(prefix)
  const [ack, length, seq, lease, ttl, time] = await Promise.all([
    redis.hgetall(keys.ack),
    redis.xlen(stream),
    redis.get(telemetrySeqKey(prefix)),
    redis.get(keys.lease),
    redis.pttl(keys.lease),
    redis.time(),
  ])
  const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000)
  const ackedId = ack.id
  const ackedN = ack.n ? Number(ack.n) : null
  const next = (await redis.xrange(stream, ackedId ? `(${ackedId}` : '-', '+', 'COUNT', 1))[0]?.[0] ?? null
  let depth = length
  if (!next) depth = 0
  else if (ackedN !== null && seq !== null) depth = Math.max(0, Math.min(length, Number(seq) - ackedN))
  let lastGap: SinkBacklog['lastGap'] = null
  try {
    const g = JSON.parse(ack.lastGap ?? 'null') as SinkBacklog['lastGap']
    if (g && typeof g.after === 'string') lastGap = { after: g.after, before: g.before, events: g.events }
  } catch {
    // An unreadable record shows as none; the counts still say a gap happened.
  }
  const sep = lease?.indexOf(':') ?? -1
  return {
    acked: ackedId
      ? { id: ackedId, n: ackedN, at: ack.at ? new Date(Number(ack.at)).toISOString() : null }
      : null,
    depth,
    lagSeconds: next ? Math.max(0, (now - msOf(next)) / 1000) : 0,
    oldestUnacked: next,
    forwarded: Number(ack.forwarded ?? 0),
    gaps: Number(ack.gaps ?? 0),
    gapEvents: Number(ack.gapEvents ?? 0),
    lastGap,
    lease:
      lease && sep > 0
        ? { fence: Number(lease.slice(0, sep)), owner: lease.slice(sep + 1), ttlMs: Math.max(0, ttl) }
        : null,
  }
}
