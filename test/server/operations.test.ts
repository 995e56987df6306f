import { request as httpRequest } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { freePort, startRedisServer, type RedisServerHandle } from '../../src/queue/redis-server.js'
import { signBody } from '../../src/server/verify-signature.js'
import { DRAINING_REASON } from '../../src/health/health-routes.js'
import { SYNTHETIC_SECRET, syntheticDeliveries } from './deliveries.js'
import { startIngress, total, type Ingress } from './harness.js'

const base = syntheticDeliveries().find((x) => x.name === 'issue_comment-created-issue.json')!
let seq = 0
function delivery(secret = SYNTHETIC_SECRET): Record<string, string> {
  return {
    ...base.headers,
    'X-Gitea-Delivery': `ops-${Date.now()}-${seq++}`,
    'X-Gitea-Signature': signBody(base.body, secret),
    'X-Hub-Signature-256': '',
  }
}

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})
async function ingressWith(options: Parameters<typeof startIngress>[0]): Promise<Ingress> {
  const ingress = await startIngress(options)
  cleanups.push(() => ingress.close())
  return ingress
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('body limit', () => {
  it('answers 413 for a declared length over 5 MiB and enqueues nothing', async () => {
    const ingress = await ingressWith({})
    const body = Buffer.alloc(5 * 1024 * 1024 + 1, 0x20)
    const res = await ingress.post(
      { ...delivery(), 'X-Gitea-Signature': signBody(body, SYNTHETIC_SECRET) },
      body,
    )
    expect(res).toEqual({ status: 413, body: { error: `body is larger than ${5 * 1024 * 1024} bytes` } })
    expect(total(await ingress.counts())).toBe(0)
  })

  it('cuts a chunked upload off at the limit without waiting for its end', async () => {
    const ingress = await ingressWith({ maxBodyBytes: 64 * 1024 })
    const url = new URL(`${ingress.url}/webhooks/gitea`)
    // 1 MiB in 16 KiB chunks with no Content-Length; the server must answer before we finish.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: delivery() },
        (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        },
      )
      req.on('error', reject)
      let sent = 0
      const chunk = Buffer.alloc(16 * 1024, 0x20)
      const pump = () => {
        while (sent < 1024 * 1024) {
          sent += chunk.length
          if (!req.write(chunk)) return void req.once('drain', pump)
        }
        req.end()
      }
      pump()
    })
    expect(status).toBe(413)
    expect(total(await ingress.counts())).toBe(0)
  })
})

describe('secret rotation', () => {
  it('accepts the old and the new secret while both are configured, and refuses others', async () => {
    const both = await ingressWith({ secrets: ['old-secret', 'new-secret'] })
    expect((await both.post(delivery('old-secret'), base.body)).status).toBe(202)
    expect((await both.post(delivery('new-secret'), base.body)).status).toBe(202)
    expect((await both.post(delivery('other-secret'), base.body)).status).toBe(401)
    const after = await ingressWith({ secrets: ['new-secret'] })
    expect((await after.post(delivery('old-secret'), base.body)).status).toBe(401)
    expect((await after.post(delivery('new-secret'), base.body)).status).toBe(202)
  })
})

describe('health, readiness and metrics', () => {
  it('reports liveness and readiness, and names what is not ready', async () => {
    let giteaDown = false
    const ingress = await ingressWith({
      checkGitea: async () => {
        if (giteaDown) throw new Error('GET /api/v1/version: connect ECONNREFUSED')
      },
    })
    expect(await ingress.get('/health')).toEqual({ status: 200, body: { status: 'ok' } })
    expect(await ingress.get('/ready')).toEqual({
      status: 200,
      body: { ready: true, checks: { redis: 'ok', gitea: 'ok' } },
    })
    giteaDown = true
    expect(await ingress.get('/ready')).toEqual({
      status: 503,
      body: { ready: false, checks: { redis: 'ok', gitea: 'GET /api/v1/version: connect ECONNREFUSED' } },
    })
  })

  it('says "draining" once the process shuts down: /health 200 draining, /ready 503 with the reason, unchecked', async () => {
    let draining = false
    let checked = 0
    const ingress = await ingressWith({
      checkGitea: async () => void checked++,
      draining: () => draining,
    })
    expect(await ingress.get('/ready')).toMatchObject({ status: 200, body: { ready: true } })
    expect(checked).toBe(1)
    draining = true
    expect(await ingress.get('/health')).toEqual({ status: 200, body: { status: 'draining' } })
    expect(await ingress.get('/ready')).toEqual({
      status: 503,
      body: { ready: false, draining: true, reason: DRAINING_REASON },
    })
    // A draining process is not ready whatever its dependencies say: nothing is asked.
    expect(checked).toBe(1)
    expect(await ingress.get('/health/details')).toMatchObject({
      status: 200,
      body: { status: 'draining', ready: false, draining: true, reason: DRAINING_REASON },
    })
  })

  it('counts webhooks by event and result, and request durations', async () => {
    const ingress = await ingressWith({})
    const headers = delivery()
    await ingress.post(headers, base.body)
    await ingress.post(headers, base.body)
    await ingress.post(delivery('wrong'), base.body)
    const res = await ingress.get('/metrics')
    expect(res.status).toBe(200)
    const text = String(res.body)
    expect(text).toContain('uw_webhooks_total{event="issue_comment",result="accepted"} 1')
    expect(text).toContain('uw_webhooks_total{event="issue_comment",result="duplicate"} 1')
    expect(text).toContain('uw_webhooks_total{event="issue_comment",result="unauthorized"} 1')
    expect(text).toMatch(
      /uw_http_request_duration_seconds_count\{route="\/webhooks\/gitea",method="POST",status="202"\} 1/,
    )
  })

  it('labels unknown event names as other, so a sender cannot grow the label set', async () => {
    const ingress = await ingressWith({})
    await ingress.post({ ...delivery('x'), 'X-Gitea-Event-Type': 'made-up-event' }, base.body)
    const text = String((await ingress.get('/metrics')).body)
    expect(text).toContain('uw_webhooks_total{event="other",result="unauthorized"} 1')
    expect(text).not.toContain('made-up-event')
  })
})

describe('Redis unavailable', () => {
  it('answers 503 while Redis is down, never 202, and accepts again once it is back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uw-ingress-redis-'))
    const port = await freePort()
    let redis: RedisServerHandle = await startRedisServer({ dir, port })
    // Registered before the ingress, so it runs after the ingress has closed (cleanups run in reverse).
    cleanups.push(async () => {
      await redis.stop()
      rmSync(dir, { recursive: true, force: true })
    })
    const ingress = await ingressWith({ redisUrl: redis.url })
    expect((await ingress.post(delivery(), base.body)).status).toBe(202)

    await redis.stop()
    const refused = delivery()
    for (let i = 0; i < 3; i++) {
      const res = await ingress.post(refused, base.body)
      expect(res).toEqual({
        status: 503,
        body: { error: 'queue unavailable, delivery not accepted; redeliver later' },
      })
    }
    const notReady = await ingress.get('/ready')
    expect(notReady.status).toBe(503)
    expect(notReady.body).toMatchObject({ ready: false, checks: { gitea: 'ok' } })

    redis = await startRedisServer({ dir, port })
    await until('ingress ready again', async () =>
      (await ingress.get('/ready')).status === 200 ? true : undefined,
    )
    // The operator's redelivery of the refused delivery is accepted, not answered as a duplicate.
    expect((await ingress.post(refused, base.body)).status).toBe(202)
    expect((await ingress.post(delivery(), base.body)).status).toBe(202)
    // AOF kept the first job across the restart: three accepted, three queued.
    expect(total(await ingress.counts())).toBe(3)
  })
})
