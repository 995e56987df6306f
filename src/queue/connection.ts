import { Redis, Cluster, type RedisOptions } from 'ioredis'
import { parseRedisUrl } from './redis-url.js'

/**
 * Every key uni-wizard writes starts with this prefix. The braces make it one Redis Cluster hash
 * tag, so all of a queue's keys land in one slot and multi-key scripts work on a cluster.
 */
export const DEFAULT_PREFIX = '{uw}'

/**
 * A connection as the rest of the bot takes it: one Redis, or a Cluster. Rooms other than queue/
 * and jobs/ name the client by this type instead of importing ioredis (a checked layout rule).
 */
export type RedisClient = Redis | Cluster

/** What a connection is for: producers fail fast when Redis is away, workers wait for it. */
export type ConnectionRole = 'producer' | 'worker'

function roleOptions(role: ConnectionRole): RedisOptions {
  return role === 'worker'
    ? { maxRetriesPerRequest: null, enableReadyCheck: true }
    : // A producer must not queue commands while Redis is down: the ingress answers 503 instead.
      { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000 }
}

/**
 * A connection that finds itself on a replica (READONLY: the primary it was talking to was demoted
 * at a failover while the socket stayed open) reconnects, which asks the Sentinels for the new
 * primary, and resends the command.
 */
function reconnectOnReadonly(err: Error): 2 | false {
  return err.message.startsWith('READONLY') ? 2 : false
}

/**
 * Opens an ioredis connection for a URL: `redis://`, `rediss://`,
 * `redis+sentinel://[user:password@]host:port,host:port/masterName` (the credentials are the data
 * nodes'; the Sentinels are asked without) or `redis+cluster://[user:password@]host:port,host:port`.
 *
 * @example
 *   const redis = createRedis('redis://127.0.0.1:6379', 'worker')
 */
export function createRedis(url: string, role: ConnectionRole, extra: RedisOptions = {}): RedisClient {
  const base: RedisOptions = { ...roleOptions(role), lazyConnect: false, ...extra }
  const target = parseRedisUrl(url)
  if (target.kind === 'single') return new Redis(url, base)
  const auth = { username: target.username, password: target.password }
  if (target.kind === 'sentinel')
    return new Redis({
      ...base,
      ...auth,
      sentinels: target.hosts,
      name: target.name,
      // No `failoverDetector`: in ioredis 5 its disconnect on +switch-master can race a reconnect
      // already in flight and leave the connection ended for good (redis/ioredis#1683, seen in the
      // failover resilience test). A dead primary's socket errors and the reconnect asks the
      // Sentinels for the new one; a demoted primary answers READONLY, which reconnects below.
      failoverDetector: false,
      reconnectOnError: reconnectOnReadonly,
      ...extra,
    })
  return new Cluster(target.hosts, {
    redisOptions: { ...base, ...auth },
    enableOfflineQueue: base.enableOfflineQueue ?? true,
  })
}
