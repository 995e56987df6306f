import { Redis, Cluster, type RedisOptions } from 'ioredis'

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

function hostPorts(list: string): { host: string; port: number }[] {
  return list.split(',').map((hp) => {
    const [host, port] = hp.split(':')
    return { host: host || '127.0.0.1', port: Number(port || 6379) }
  })
}

function roleOptions(role: ConnectionRole): RedisOptions {
  return role === 'worker'
    ? { maxRetriesPerRequest: null, enableReadyCheck: true }
    : // A producer must not queue commands while Redis is down: the ingress answers 503 instead.
      { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000 }
}

/**
 * Opens an ioredis connection for a URL: `redis://`, `rediss://`,
 * `redis+sentinel://host:port,host:port/masterName` or `redis+cluster://host:port,host:port`.
 *
 * @example
 *   const redis = createRedis('redis://127.0.0.1:6379', 'worker')
 */
export function createRedis(url: string, role: ConnectionRole, extra: RedisOptions = {}): RedisClient {
  const base = { ...roleOptions(role), lazyConnect: false, ...extra }
  const parsed = new URL(url)
  const auth = {
    username: decodeURIComponent(parsed.username) || undefined,
    password: decodeURIComponent(parsed.password) || undefined,
  }
  if (parsed.protocol === 'redis+sentinel:') {
    const hosts = url.replace(/^redis\+sentinel:\/\/([^@]*@)?/, '').split('/')[0] ?? ''
    const name = parsed.pathname.replace(/^\//, '') || 'mymaster'
    return new Redis({ ...base, ...auth, sentinels: hostPorts(hosts), name })
  }
  if (parsed.protocol === 'redis+cluster:') {
    const hosts = url.replace(/^redis\+cluster:\/\/([^@]*@)?/, '').split('/')[0] ?? ''
    return new Cluster(hostPorts(hosts), {
      redisOptions: { ...base, ...auth },
      enableOfflineQueue: base.enableOfflineQueue ?? true,
    })
  }
  return new Redis(url, base)
}
