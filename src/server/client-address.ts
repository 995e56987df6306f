import { BlockList, isIP, isIPv4, isIPv6 } from 'node:net'
import type { IncomingMessage } from 'node:http'
import { getConnInfo } from '@hono/node-server/conninfo'
import type { Context } from 'hono'
import { z } from 'zod'

/** What a client is called when the request came without a socket (`app.request` in a test, another runtime). */
export const UNKNOWN_CLIENT = 'unknown'

const CIDR = /^(.+)\/(\d{1,3})$/

/** An address or a CIDR block (`10.0.0.0/8`, `fd00::/8`) of a reverse proxy whose `X-Forwarded-For` is believed. */
export const TrustedProxy = z.string().refine(
  (s) => {
    const m = CIDR.exec(s)
    if (!m) return isIP(s) !== 0
    const bits = Number(m[2])
    return (isIPv4(m[1]!) && bits <= 32) || (isIPv6(m[1]!) && bits <= 128)
  },
  { message: 'an IP address or CIDR block, such as 127.0.0.1 or 10.0.0.0/8' },
)

/**
 * The trusted proxies as a `BlockList` (empty: nobody's `X-Forwarded-For` is believed).
 *
 * @example
 *   const proxies = trustedProxies(['127.0.0.1', '10.0.0.0/8'])
 */
export function trustedProxies(entries: readonly string[]): BlockList {
  const list = new BlockList()
  for (const e of entries) {
    const m = CIDR.exec(e)
    const address = plainAddress(m ? m[1]! : e)
    const type = isIPv4(address) ? 'ipv4' : 'ipv6'
    if (m) list.addSubnet(address, Number(m[2]), type)
    else list.addAddress(address, type)
  }
  return list
}

/** `::ffff:10.1.2.3` (an IPv4 client on a dual-stack socket) as `10.1.2.3`; zone ids dropped. */
function plainAddress(address: string): string {
  const a = address.trim().replace(/%.*$/, '')
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a)
  return mapped ? mapped[1]! : a
}

function isTrusted(proxies: BlockList, address: string): boolean {
  if (isIPv4(address)) return proxies.check(address, 'ipv4')
  return isIPv6(address) && proxies.check(address, 'ipv6')
}

/**
 * The address of the client that sent a request: the socket's remote address, unless that is a
 * trusted proxy; then `X-Forwarded-For` is read from the right (each proxy appends the address it
 * was reached from), skipping trusted proxies, and the first other address is the client. Entries
 * a client wrote itself sit further left and are never reached. Without trusted proxies the header
 * is ignored, so a client cannot choose its own address.
 *
 * @example
 *   clientAddress(c, trustedProxies(['127.0.0.1'])) // '203.0.113.7' behind a proxy on loopback
 */
export function clientAddress(c: Context, proxies: BlockList): string {
  const env = c.env as { incoming?: IncomingMessage } | undefined
  const socket = env?.incoming ? getConnInfo(c).remote.address : undefined
  if (!socket) return UNKNOWN_CLIENT
  let client = plainAddress(socket)
  if (!isTrusted(proxies, client)) return client
  const hops = (c.req.header('x-forwarded-for') ?? '').split(',').map(plainAddress).filter(Boolean)
  for (const hop of hops.reverse()) {
    // Garbage where an address should be: the last hop a trusted proxy vouched for is the client.
    if (isIP(hop) === 0) return client
    client = hop
    if (!isTrusted(proxies, hop)) return client
  }
  return client
}

/**
 * The key a client's attempts are counted under: an IPv4 address, or an IPv6 address's /64 (one
 * host usually holds a whole /64, so counting single IPv6 addresses would be no limit at all).
 *
 * @example
 *   clientKey('2001:db8:1:2:aaaa::1') // '2001:db8:1:2::/64'
 */
export function clientKey(address: string): string {
  if (!isIPv6(address)) return address
  return `${ipv6Groups(address).slice(0, 4).join(':')}::/64`
}

/** The eight groups of a valid IPv6 address, in lowercase hex without leading zeros. */
function ipv6Groups(address: string): string[] {
  let a = address.toLowerCase()
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a)
  if (v4) {
    const [p, q, r, s] = v4.slice(1).map(Number) as [number, number, number, number]
    a = `${a.slice(0, v4.index)}${((p << 8) | q).toString(16)}:${((r << 8) | s).toString(16)}`
  }
  const [head, tail] = a.split('::') as [string, string | undefined]
  const h = head ? head.split(':') : []
  const t = tail ? tail.split(':') : []
  const fill = tail === undefined ? [] : Array<string>(8 - h.length - t.length).fill('0')
  return [...h, ...fill, ...t].map((g) => parseInt(g, 16).toString(16))
}
