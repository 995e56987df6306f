/** One `host:port` of a Sentinel or Cluster URL. */
export interface HostPort {
  host: string
  port: number
}

/** What a REDIS_URL names: one server, a Sentinel-watched primary, or a Cluster. */
export type RedisTarget =
  | { kind: 'single'; url: string; password?: string }
  | { kind: 'sentinel'; hosts: HostPort[]; name: string; username?: string; password?: string }
  | { kind: 'cluster'; hosts: HostPort[]; username?: string; password?: string }

const MULTI_HOST = /^(redis\+sentinel|redis\+cluster):\/\/(?:([^@/?#]*)@)?([^/?#]*)(\/[^?#]*)?(?:\?[^#]*)?$/
const HOST_PORT = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::(\d+))?$/

function hostPorts(list: string, defaultPort: number): HostPort[] {
  if (list === '') throw new Error('no host: give host:port[,host:port...]')
  return list.split(',').map((hp) => {
    const m = HOST_PORT.exec(hp.trim())
    const port = Number(m?.[3] ?? defaultPort)
    if (!m || !Number.isInteger(port) || port < 1 || port > 65535)
      throw new Error(`${JSON.stringify(hp)} is not host:port`)
    return { host: (m[1] ?? m[2])!, port }
  })
}

function credentials(userinfo: string | undefined): { username?: string; password?: string } {
  if (!userinfo) return {}
  const at = userinfo.indexOf(':')
  const username = decodeURIComponent(at < 0 ? userinfo : userinfo.slice(0, at))
  const password = at < 0 ? '' : decodeURIComponent(userinfo.slice(at + 1))
  return { ...(username ? { username } : {}), ...(password ? { password } : {}) }
}

/**
 * Reads a REDIS_URL. Sentinel and Cluster URLs list several hosts, which WHATWG `URL` refuses
 * (`h1:26379,h2:26379` is not a port), so they are read here; `redis://` and `rediss://` go to
 * ioredis as they are. Errors never quote the URL: it may hold a password.
 *
 * @example
 *   parseRedisUrl('redis+sentinel://:pw@s1:26379,s2:26379/mymaster')
 *   // { kind: 'sentinel', hosts: [{ host: 's1', port: 26379 }, ...], name: 'mymaster', password: 'pw' }
 */
export function parseRedisUrl(url: string): RedisTarget {
  const multi = MULTI_HOST.exec(url)
  if (multi) {
    const [, scheme, userinfo, hosts, path] = multi
    const sentinel = scheme === 'redis+sentinel'
    const auth = credentials(userinfo)
    const list = hostPorts(hosts!, sentinel ? 26379 : 6379)
    if (!sentinel) return { kind: 'cluster', hosts: list, ...auth }
    const name = decodeURIComponent((path ?? '').replace(/^\//, '')) || 'mymaster'
    return { kind: 'sentinel', hosts: list, name, ...auth }
  }
  if (/^(redis\+sentinel|redis\+cluster):/.test(url)) throw new Error('malformed Sentinel or Cluster URL')
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new Error('not a URL')
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new Error(`unsupported scheme ${parsed.protocol}`)
  const password = decodeURIComponent(parsed.password)
  return { kind: 'single', url, ...(password ? { password } : {}) }
}
