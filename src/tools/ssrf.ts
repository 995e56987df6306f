import { lookup } from 'node:dns/promises'
import http from 'node:http'
import https from 'node:https'
import { isIP, type LookupFunction } from 'node:net'
import { ToolError } from './tool.js'

/** Parses an IPv4 or IPv6 literal into bytes (4 or 16), or undefined when it is not one. */
export function ipBytes(ip: string): number[] | undefined {
  const v = isIP(ip)
  if (v === 4) return ip.split('.').map(Number)
  if (v !== 6) return undefined
  let text = ip.toLowerCase()
  const zone = text.indexOf('%')
  if (zone >= 0) text = text.slice(0, zone)
  let tailV4: number[] = []
  const lastColon = text.lastIndexOf(':')
  if (text.slice(lastColon + 1).includes('.')) {
    tailV4 = text
      .slice(lastColon + 1)
      .split('.')
      .map(Number)
    text = `${text.slice(0, lastColon + 1)}0:0`
  }
  const [head = '', rest] = text.split('::') as [string, string | undefined]
  const groups = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)))
  const h = groups(head)
  const t = rest === undefined ? [] : groups(rest)
  const all = rest === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t]
  const bytes = all.flatMap((g) => [g >> 8, g & 0xff])
  if (tailV4.length === 4) bytes.splice(12, 4, ...tailV4)
  return bytes
}

function inV4(b: number[], net: [number, number, number, number], bits: number): boolean {
  for (let i = 0; i < 4; i++) {
    const take = Math.min(8, Math.max(0, bits - i * 8))
    const mask = take === 0 ? 0 : (0xff << (8 - take)) & 0xff
    if (((b[i] as number) & mask) !== ((net[i] as number) & mask)) return false
  }
  return true
}

const V4_BLOCKS: [[number, number, number, number], number, string][] = [
  [[0, 0, 0, 0], 8, 'unspecified'],
  [[10, 0, 0, 0], 8, 'private'],
  [[100, 64, 0, 0], 10, 'carrier-grade NAT'],
  [[127, 0, 0, 0], 8, 'loopback'],
  [[169, 254, 0, 0], 16, 'link-local (cloud metadata)'],
  [[172, 16, 0, 0], 12, 'private'],
  [[192, 0, 0, 0], 24, 'IETF protocol assignments'],
  [[192, 168, 0, 0], 16, 'private'],
  [[198, 18, 0, 0], 15, 'benchmarking'],
  [[224, 0, 0, 0], 4, 'multicast'],
  [[240, 0, 0, 0], 4, 'reserved/broadcast'],
]

/**
 * Why an address must not be contacted (loopback, private, link-local, metadata, unspecified,
 * multicast, or an IPv6 form embedding one of those), or undefined when it is public.
 *
 * @example
 *   blockedReason('169.254.169.254') // 'link-local (cloud metadata)'
 *   blockedReason('::ffff:7f00:1')   // 'loopback (IPv4-mapped)'
 */
export function blockedReason(ip: string): string | undefined {
  const b = ipBytes(ip)
  if (!b) return 'not an IP address'
  if (b.length === 4) return V4_BLOCKS.find(([net, bits]) => inV4(b, net, bits))?.[2]
  const zero = (from: number, to: number): boolean => b.slice(from, to).every((x) => x === 0)
  const embedded = (at: number, how: string): string | undefined => {
    const r = blockedReason(b.slice(at, at + 4).join('.'))
    return r && `${r} (${how})`
  }
  if (zero(0, 16)) return 'unspecified'
  if (zero(0, 15) && b[15] === 1) return 'loopback'
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return embedded(12, 'IPv4-mapped')
  if (zero(0, 12)) return embedded(12, 'IPv4-compatible')
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12))
    return embedded(12, 'NAT64')
  if (b[0] === 0x20 && b[1] === 0x02) return embedded(2, '6to4')
  const b0 = b[0] as number
  const b1 = b[1] as number
  if ((b0 & 0xfe) === 0xfc) return 'unique local (private)'
  if (b0 === 0xfe && (b1 & 0xc0) === 0x80) return 'link-local'
  if (b0 === 0xfe && (b1 & 0xc0) === 0xc0) return 'site-local'
  if (b0 === 0xff) return 'multicast'
  return undefined
}

/** Whether a host is allowlisted: exact (case-insensitive) or `*.suffix` for subdomains. */
export function hostAllowed(host: string, allowHosts: readonly string[]): boolean {
  const h = host
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
  return allowHosts.some((entry) => {
    const e = entry.toLowerCase().replace(/^\[|\]$/g, '')
    return e.startsWith('*.') ? h.endsWith(e.slice(1)) : h === e
  })
}

export interface CheckedAddress {
  address: string
  family: 4 | 6
}

/**
 * Resolves a host (all addresses) and refuses it when any address is blocked, unless the host is
 * allowlisted. Returns the address to connect to, so the caller pins it (no DNS rebinding between
 * check and connect).
 */
export async function resolveChecked(host: string, allowHosts: readonly string[]): Promise<CheckedAddress> {
  const bare = host.replace(/^\[|\]$/g, '')
  let addrs: CheckedAddress[]
  if (isIP(bare)) addrs = [{ address: bare, family: isIP(bare) as 4 | 6 }]
  else {
    try {
      addrs = (await lookup(bare, { all: true, verbatim: true })).map((a) => ({
        address: a.address,
        family: a.family as 4 | 6,
      }))
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      throw new ToolError(`cannot resolve ${bare}: ${code ?? (err as Error).message}`, code === 'EAI_AGAIN', {
        cause: err,
      })
    }
  }
  const first = addrs[0]
  if (!first) throw new ToolError(`cannot resolve ${bare}: no addresses`)
  if (hostAllowed(bare, allowHosts)) return first
  for (const a of addrs) {
    const reason = blockedReason(a.address)
    if (reason) {
      throw new ToolError(
        `refused: ${bare} resolves to ${a.address}, a ${reason} address (not in http.allowHosts)`,
      )
    }
  }
  return first
}

export interface GuardedRequest {
  method?: string
  headers?: Record<string, string>
  body?: string | Buffer
  signal?: AbortSignal
  allowHosts?: readonly string[]
  maxBytes?: number
  maxRedirects?: number
  timeoutMs?: number
}

export interface GuardedResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
  /** Bytes cut by `maxBytes` (the connection is closed once the cap is reached). */
  truncated: boolean
  /** The final URL, after redirects. */
  url: string
  /** Every URL visited, in order. */
  hops: string[]
  /** The IP actually connected to for the final hop. */
  address: string
}

const REDIRECTS = new Set([301, 302, 303, 307, 308])

/**
 * An HTTP(S) request behind the SSRF guard. Each hop's host is resolved and checked, the
 * connection goes to the checked IP (pinned; TLS still verifies the name), and redirects are
 * followed by hand so every hop is checked again. Time and size are capped.
 *
 * @example
 *   const r = await guardedFetch('https://example.org/', { allowHosts: [], maxBytes: 1 << 20, signal })
 */
export async function guardedFetch(url: string, req: GuardedRequest = {}): Promise<GuardedResponse> {
  const { allowHosts = [], maxBytes = 1024 * 1024, maxRedirects = 5, timeoutMs = 15_000 } = req
  const signal = req.signal
    ? AbortSignal.any([req.signal, AbortSignal.timeout(timeoutMs)])
    : AbortSignal.timeout(timeoutMs)
  let method = (req.method ?? 'GET').toUpperCase()
  let body = req.body
  let headers = { ...(req.headers ?? {}) }
  let current = new URL(url)
  const hops: string[] = []
  for (let hop = 0; ; hop++) {
    if (current.protocol !== 'http:' && current.protocol !== 'https:') {
      throw new ToolError(`refused: only http and https URLs are allowed, got ${current.protocol}`)
    }
    if (current.username || current.password) throw new ToolError('refused: credentials in the URL')
    hops.push(current.href)
    const pinned = await resolveChecked(current.hostname, allowHosts)
    const res = await requestOnce(current, pinned, method, headers, body, maxBytes, signal)
    const location = res.headers.location
    if (REDIRECTS.has(res.status) && typeof location === 'string') {
      if (hop >= maxRedirects) throw new ToolError(`too many redirects (max ${maxRedirects})`)
      const next = new URL(location, current)
      if (next.origin !== current.origin) {
        // Credentials are for the origin they were given to.
        headers = Object.fromEntries(
          Object.entries(headers).filter(([k]) => !['authorization', 'cookie'].includes(k.toLowerCase())),
        )
      }
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
        method = 'GET'
        body = undefined
      }
      current = next
      continue
    }
    return { ...res, url: current.href, hops, address: pinned.address }
  }
}

function requestOnce(
  url: URL,
  pinned: CheckedAddress,
  method: string,
  headers: Record<string, string>,
  body: string | Buffer | undefined,
  maxBytes: number,
  signal: AbortSignal,
): Promise<Omit<GuardedResponse, 'url' | 'hops' | 'address'>> {
  const pin: LookupFunction = (_host, opts, cb) => {
    if (opts.all) cb(null, [{ address: pinned.address, family: pinned.family }])
    else cb(null, pinned.address, pinned.family)
  }
  const mod = url.protocol === 'https:' ? https : http
  const clean = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'host'))
  return new Promise((resolve, reject) => {
    const r = mod.request(url, { method, headers: clean, lookup: pin, signal, agent: false }, (res) => {
      const chunks: Buffer[] = []
      let size = 0
      let truncated = false
      res.on('data', (c: Buffer) => {
        if (truncated) return
        const room = maxBytes - size
        if (c.length > room) {
          chunks.push(c.subarray(0, room))
          size += room
          truncated = true
          // Stop reading: a huge body must cost neither memory nor time.
          res.destroy()
          finish()
          return
        }
        chunks.push(c)
        size += c.length
      })
      let done = false
      const finish = (): void => {
        if (done) return
        done = true
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), truncated })
      }
      res.on('end', finish)
      res.on('error', (err) => {
        if (truncated) return
        reject(netError(url, err, signal))
      })
      res.on('close', () => {
        if (!done && !res.complete && !truncated)
          reject(netError(url, new Error('connection closed early'), signal))
      })
    })
    r.on('error', (err) => reject(netError(url, err, signal)))
    r.end(body)
  })
}

function netError(url: URL, err: Error, signal: AbortSignal): Error {
  if (signal.aborted) {
    const reason = signal.reason as Error | undefined
    // Our own timeout is a transient failure; an abort from the caller is passed through.
    if (reason?.name === 'TimeoutError')
      return new ToolError(`request to ${url.host} timed out`, true, { cause: err })
    return reason ?? err
  }
  return new ToolError(`request to ${url.host} failed: ${err.message}`, true, { cause: err })
}
