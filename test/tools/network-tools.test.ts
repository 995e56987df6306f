import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HttpGetArgs, httpGet } from '../../src/tools/network/http-get.js'
import { HttpPostArgs, httpPost } from '../../src/tools/network/http-post.js'
import { blockedReason, guardedFetch, hostAllowed } from '../../src/tools/ssrf.js'
import { HealthCheckArgs, healthCheck } from '../../src/tools/system/health-check.js'
import { toolContext } from './tool-context.js'

let server: Server
let base: string
let port: number

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/redirect-private') {
      res.writeHead(302, { location: 'http://10.0.0.1/internal' }).end()
    } else if (req.url === '/redirect-localhost') {
      res.writeHead(302, { location: `http://localhost:${port}/ok` }).end()
    } else if (req.url === '/redirect-ok') {
      res.writeHead(301, { location: '/ok' }).end()
    } else if (req.url === '/loop') {
      res.writeHead(302, { location: '/loop' }).end()
    } else if (req.url === '/big') {
      res.writeHead(200)
      res.end(Buffer.alloc(1024 * 1024, 'x'))
    } else if (req.url === '/fail') {
      res.writeHead(503).end('down')
    } else if (req.method === 'POST') {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString()))
      req.on('end', () =>
        res
          .writeHead(201, { 'content-type': 'application/json' })
          .end(JSON.stringify({ got: body, type: req.headers['content-type'] })),
      )
    } else {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok')
    }
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  port = (server.address() as AddressInfo).port
  base = `http://127.0.0.1:${port}`
})
afterAll(() => new Promise<void>((r) => server.close(() => r())))

const allowLocal = { http: { allowHosts: ['127.0.0.1'] } }

describe('blockedReason', () => {
  const table: [string, string | undefined][] = [
    ['127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.20.0.1', 'private'],
    ['172.32.0.1', undefined],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['93.184.215.14', undefined],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fd00::1', 'unique local (private)'],
    ['fe80::1%eth0', 'link-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback (IPv4-mapped)'],
    ['::ffff:a9fe:a9fe', 'link-local (cloud metadata) (IPv4-mapped)'],
    ['64:ff9b::a00:1', 'private (NAT64)'],
    ['2002:7f00:1::', 'loopback (6to4)'],
    ['2606:4700:4700::1111', undefined],
  ]
  for (const [ip, reason] of table) {
    it(`${ip} -> ${reason ?? 'allowed'}`, () => {
      expect(blockedReason(ip)).toBe(reason)
    })
  }

  it('matches allowlist entries exactly or by *.suffix', () => {
    expect(hostAllowed('Gitea.Internal', ['gitea.internal'])).toBe(true)
    expect(hostAllowed('api.corp.example', ['*.corp.example'])).toBe(true)
    expect(hostAllowed('corp.example.evil', ['*.corp.example'])).toBe(false)
    expect(hostAllowed('[::1]', ['::1'])).toBe(true)
  })
})

describe('SSRF attacks are refused', () => {
  const attacks: [string, string][] = [
    ['loopback IP', 'http://127.0.0.1:1/'],
    ['private 10.x', 'http://10.0.0.1/'],
    ['cloud metadata', 'http://169.254.169.254/latest/meta-data/'],
    ['a DNS name resolving to loopback', 'http://localhost:1/'],
    ['IPv6 loopback', 'http://[::1]:1/'],
    ['IPv4-mapped IPv6 loopback', 'http://[::ffff:127.0.0.1]:1/'],
    ['decimal-encoded loopback', 'http://2130706433:1/'],
  ]
  for (const [name, url] of attacks) {
    it(`http_get refuses ${name}`, async () => {
      await expect(httpGet.run(HttpGetArgs.parse({ url }), toolContext([]))).rejects.toThrow(/^refused: /)
    })
  }

  it('refuses a redirect from an allowlisted host to a private address', async () => {
    await expect(
      httpGet.run(HttpGetArgs.parse({ url: `${base}/redirect-private` }), toolContext([], allowLocal)),
    ).rejects.toThrow(/refused: 10\.0\.0\.1/)
  })

  it('re-checks each hop: allowlisting 127.0.0.1 does not allow a redirect to localhost', async () => {
    await expect(
      httpGet.run(HttpGetArgs.parse({ url: `${base}/redirect-localhost` }), toolContext([], allowLocal)),
    ).rejects.toThrow(/refused: localhost/)
  })

  it('refuses non-http schemes and credentials in the URL', async () => {
    await expect(guardedFetch('file:///etc/passwd')).rejects.toThrow(/only http and https/)
    await expect(
      guardedFetch(`http://u:p@127.0.0.1:${port}/`, { allowHosts: ['127.0.0.1'] }),
    ).rejects.toThrow(/credentials/)
    expect(() => HttpGetArgs.parse({ url: 'gopher://127.0.0.1/' })).toThrow()
  })
})

describe('http tools on the allowlist path', () => {
  it('http_get fetches from an allowlisted local server, following a safe redirect', async () => {
    const r = await httpGet.run(
      HttpGetArgs.parse({ url: `${base}/redirect-ok` }),
      toolContext([], allowLocal),
    )
    expect(r.data).toMatchObject({
      status: 200,
      url: `${base}/ok`,
      hops: [`${base}/redirect-ok`, `${base}/ok`],
      address: '127.0.0.1',
    })
    expect(r.output).toContain('ok')
    expect(await httpGet.verify(HttpGetArgs.parse({ url: base }), r, toolContext([]))).toMatchObject({
      kind: 'http-status',
      detail: { status: 200 },
    })
  })

  it('caps the body size and says so', async () => {
    const r = await httpGet.run(
      HttpGetArgs.parse({ url: `${base}/big` }),
      toolContext([], { http: { allowHosts: ['127.0.0.1'], maxBytes: 1000 } }),
    )
    expect(r.data).toMatchObject({ bytes: 1000, truncated: true })
    expect(r.output).toContain('[cut at 1000 bytes]')
  })

  it('stops at the redirect limit', async () => {
    await expect(
      httpGet.run(
        HttpGetArgs.parse({ url: `${base}/loop` }),
        toolContext([], { http: { allowHosts: ['127.0.0.1'], maxRedirects: 3 } }),
      ),
    ).rejects.toThrow(/too many redirects/)
  })

  it('a 5xx answer is a transient failure', async () => {
    await expect(
      httpGet.run(HttpGetArgs.parse({ url: `${base}/fail` }), toolContext([], allowLocal)),
    ).rejects.toMatchObject({ transient: true })
  })

  it('http_post sends the body with a content type; evidence only for 2xx', async () => {
    const args = HttpPostArgs.parse({ url: `${base}/hook`, body: '{"a":1}' })
    const r = await httpPost.run(args, toolContext([], allowLocal))
    expect(r.output).toContain('{"got":"{\\"a\\":1}","type":"application/json"}')
    expect(await httpPost.verify(args, r, toolContext([]))).toMatchObject({ detail: { status: 201 } })
    expect(
      await httpPost.verify(args, { ...r, data: { ...(r.data as object), status: 404 } }, toolContext([])),
    ).toBeUndefined()
  })
})

describe('health_check', () => {
  it('checks configured HTTP and TCP endpoints (trusted, no allowlist needed)', async () => {
    const ctx = toolContext([], {
      healthChecks: [
        { name: 'api', url: `${base}/ok` },
        { name: 'port', host: '127.0.0.1', port },
      ],
    })
    const r = await healthCheck.run(HealthCheckArgs.parse({}), ctx)
    expect(await healthCheck.verify(HealthCheckArgs.parse({}), r, ctx)).toMatchObject({
      detail: { statuses: { api: 200, port: 'open' } },
    })
  })

  it('fails listing every status when one endpoint is down', async () => {
    const ctx = toolContext([], {
      healthChecks: [
        { name: 'api', url: `${base}/ok` },
        { name: 'bad', url: `${base}/fail` },
      ],
    })
    await expect(healthCheck.run(HealthCheckArgs.parse({}), ctx)).rejects.toThrow(
      /1 of 2 health checks failed[\s\S]*FAIL http bad: 503/,
    )
  })

  it('ad-hoc targets go through the SSRF guard', async () => {
    await expect(
      healthCheck.run(HealthCheckArgs.parse({ targets: [{ host: '127.0.0.1', port }] }), toolContext([])),
    ).rejects.toThrow(/refused/)
    const ok = await healthCheck.run(
      HealthCheckArgs.parse({ targets: [{ url: `${base}/ok` }] }),
      toolContext([], allowLocal),
    )
    expect(ok.output).toContain('ok')
  })
})
