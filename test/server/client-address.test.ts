// Who the client is: the socket's address, X-Forwarded-For only through trusted proxies, IPv6 by /64.
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import {
  clientAddress,
  clientKey,
  TrustedProxy,
  trustedProxies,
  UNKNOWN_CLIENT,
} from '../../src/server/client-address.js'

/** The client address a request from socket `remote` with `xff` resolves to, under `trusted`. */
async function resolve(remote: string | undefined, xff: string | undefined, trusted: string[]) {
  const proxies = trustedProxies(trusted)
  const app = new Hono().get('/', (c) => c.text(clientAddress(c, proxies)))
  const env = remote === undefined ? undefined : { incoming: { socket: { remoteAddress: remote } } }
  const res = await app.request('/', { headers: xff ? { 'x-forwarded-for': xff } : {} }, env)
  return res.text()
}

describe('clientAddress', () => {
  it.each([
    // remote, X-Forwarded-For, trusted proxies, client
    ['203.0.113.7', undefined, [], '203.0.113.7'],
    ['203.0.113.7', '198.51.100.1', [], '203.0.113.7'],
    ['::ffff:203.0.113.7', undefined, [], '203.0.113.7'],
    ['10.0.0.5', '198.51.100.1', ['10.0.0.0/8'], '198.51.100.1'],
    ['10.0.0.5', '1.2.3.4, 198.51.100.1', ['10.0.0.0/8'], '198.51.100.1'],
    ['10.0.0.5', '198.51.100.1, 10.0.0.9', ['10.0.0.0/8'], '198.51.100.1'],
    ['10.0.0.5', '10.0.0.8, 10.0.0.9', ['10.0.0.0/8'], '10.0.0.8'],
    ['10.0.0.5', 'not-an-ip, 198.51.100.1', ['10.0.0.0/8'], '198.51.100.1'],
    ['10.0.0.5', '198.51.100.1, not-an-ip', ['10.0.0.0/8'], '10.0.0.5'],
    ['10.0.0.5', undefined, ['10.0.0.0/8'], '10.0.0.5'],
    ['11.0.0.5', '198.51.100.1', ['10.0.0.0/8'], '11.0.0.5'],
    ['::1', '2001:db8::7', ['::1'], '2001:db8::7'],
    ['::ffff:127.0.0.1', '198.51.100.1', ['127.0.0.1'], '198.51.100.1'],
  ])('%s with X-Forwarded-For %s, trusting %j: %s', async (remote, xff, trusted, client) => {
    expect(await resolve(remote, xff, trusted)).toBe(client)
  })

  it('is "unknown" without a socket (one shared bucket, never a header)', async () => {
    expect(await resolve(undefined, '198.51.100.1', ['0.0.0.0/0'])).toBe(UNKNOWN_CLIENT)
  })
})

describe('clientKey', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:aaaa::1', '2001:db8:1:2::/64'],
    ['2001:db8:1:2:bbbb:cccc:dddd:eeee', '2001:db8:1:2::/64'],
    ['2001:0DB8:0001:0002::', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['64:ff9b::203.0.113.7', '64:ff9b:0:0::/64'],
    [UNKNOWN_CLIENT, UNKNOWN_CLIENT],
  ])('%s is counted as %s', (address, key) => {
    expect(clientKey(address)).toBe(key)
  })
})

describe('TrustedProxy', () => {
  it.each(['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8', '0.0.0.0/0'])('accepts %s', (s) => {
    expect(TrustedProxy.safeParse(s).success).toBe(true)
  })
  it.each(['localhost', '10.0.0.0/33', 'fd00::/129', '10.0.0/8', '*', ''])('refuses %s', (s) => {
    expect(TrustedProxy.safeParse(s).success).toBe(false)
  })
})
