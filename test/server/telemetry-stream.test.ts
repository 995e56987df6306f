import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { Registry } from 'prom-client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig, Secret } from '../../src/config/index.js'
import { createLogger } from '../../src/logger.js'
import { createRedis } from '../../src/queue/connection.js'
import { createEventsProducer } from '../../src/queue/events-producer.js'
import { createApp } from '../../src/server/create-app.js'
import { createIngressMetrics } from '../../src/server/ingress-metrics.js'
import { listen, type Listening } from '../../src/server/listen.js'
import { RedisTelemetry, type TelemetryEvent } from '../../src/telemetry/index.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'
import { SYNTHETIC_SECRET } from './deliveries.js'

const TOKEN = 'telemetry-token-0123456789abcdef'
const auth = { authorization: `Bearer ${TOKEN}` }
const log = createLogger({ level: 'silent' })

/** One SSE message as the client parsed it. */
interface Message {
  id?: string
  event?: string
  data: string
}

/** A subscriber over real HTTP: messages as they arrive, comments counted, and a way to hang up. */
class Subscriber {
  readonly messages: Message[] = []
  comments = 0
  status = 0
  private readonly abort = new AbortController()
  private buffer = ''
  readonly done: Promise<void>

  constructor(url: string, headers: Record<string, string>) {
    this.done = (async () => {
      const res = await fetch(url, { headers, signal: this.abort.signal })
      this.status = res.status
      const reader = res.body!.getReader()
      const decoder = new TextDecoder()
      for (;;) {
        const { value, done } = await reader.read()
        if (done) return
        this.buffer += decoder.decode(value, { stream: true })
        let cut: number
        while ((cut = this.buffer.indexOf('\n\n')) >= 0) {
          const frame = this.buffer.slice(0, cut)
          this.buffer = this.buffer.slice(cut + 2)
          this.parse(frame)
        }
      }
    })().catch((err: unknown) => {
      if (!this.abort.signal.aborted) throw err
    })
  }

  private parse(frame: string): void {
    const m: Message = { data: '' }
    let fields = 0
    for (const line of frame.split('\n')) {
      if (line.startsWith(':')) continue
      const [k, ...rest] = line.split(': ')
      const v = rest.join(': ')
      fields++
      if (k === 'id') m.id = v
      else if (k === 'event') m.event = v
      else if (k === 'data') m.data += v
    }
    if (fields === 0) this.comments++
    else this.messages.push(m)
  }

  async until(n: number, ms = 5000): Promise<Message[]> {
    const deadline = Date.now() + ms
    while (this.messages.length < n) {
      if (Date.now() > deadline) throw new Error(`got ${this.messages.length} of ${n} messages`)
      await new Promise((r) => setTimeout(r, 20))
    }
    return this.messages
  }

  close(): void {
    this.abort.abort()
  }
}

const event = (
  jobId: string,
  house = 'ezra',
  type: 'job.queued' | 'job.started' = 'job.queued',
): TelemetryEvent =>
  type === 'job.queued'
    ? { type, jobId, run: 1, house, tool: 'git_status', mode: 'SIMPLE', requester: 'alice' }
    : { type, jobId, run: 1, house, tool: 'git_status', worker: 'w1' }

describe('GET /telemetry/stream', () => {
  const redisUrl = testRedisUrl()
  const inspector = new Redis(redisUrl, { maxRetriesPerRequest: 1 })
  const prefix = uniquePrefix()
  // Every subscriber connection is named, so the test can count the ones left open.
  const connName = `uwtel-${randomUUID().slice(0, 8)}`
  const telemetry = new RedisTelemetry({
    redis: inspector,
    prefix,
    retention: { maxEvents: 10_000, maxAgeHours: 24, onceTtlSeconds: 3600 },
    redact: (s) => s,
    log,
  })
  const producer = createRedis(redisUrl, 'producer')
  const servers: Listening[] = []
  const subscribers: Subscriber[] = []
  let http: Listening

  const serve = async (token: Secret | undefined, withTelemetry = true) => {
    const app = createApp({
      config: loadConfig({ WEBHOOK_SECRET: SYNTHETIC_SECRET }),
      log,
      events: createEventsProducer({ connection: producer, prefix, dedupeTtlSeconds: 60 }),
      redis: producer,
      botLogin: 'uw-bot',
      checkGitea: async () => undefined,
      metrics: createIngressMetrics(new Registry()),
      ...(withTelemetry && {
        telemetry: {
          token,
          prefix,
          keepaliveMs: 200,
          connect: () => createRedis(redisUrl, 'worker', { connectionName: connName }),
        },
      }),
    })
    const s = await listen(app, { host: '127.0.0.1', port: 0 })
    servers.push(s)
    return s
  }
  const subscribe = (query = '', headers: Record<string, string> = auth) => {
    const s = new Subscriber(`${http.url}/telemetry/stream${query}`, headers)
    subscribers.push(s)
    return s
  }
  const openReaders = async () =>
    ((await inspector.client('LIST')) as string).split('\n').filter((l) => l.includes(`name=${connName}`))
      .length
  const until = async (what: string, probe: () => Promise<boolean>, ms = 5000) => {
    const deadline = Date.now() + ms
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  beforeAll(async () => {
    http = await serve(new Secret(TOKEN))
  })
  afterEach(async () => {
    for (const s of subscribers.splice(0)) s.close()
    await until('subscribers gone', async () => (await openReaders()) === 0)
    await cleanupPrefix(prefix)
  })
  afterAll(async () => {
    for (const s of servers) await s.close()
    producer.disconnect()
    inspector.disconnect()
  })

  it('serves events appended after it connected, live, with id, event and JSON data', async () => {
    await telemetry.emit(event('before'))
    const sub = subscribe()
    await until('the subscriber reading', async () => (await openReaders()) === 1)
    await new Promise((r) => setTimeout(r, 50))
    await telemetry.emit(event('j1'))
    await telemetry.emit(event('j1', 'ezra', 'job.started'))
    const [a, b] = await sub.until(2)
    expect(sub.status).toBe(200)
    expect(a).toMatchObject({ event: 'job.queued', id: expect.stringMatching(/^\d+-\d+$/) })
    expect(JSON.parse(a!.data)).toMatchObject({ ...event('j1'), id: a!.id })
    expect(b).toMatchObject({ event: 'job.started' })
    expect(sub.messages.map((m) => JSON.parse(m.data).jobId)).not.toContain('before')
  })

  it('a subscriber reconnecting with Last-Event-ID gets exactly the events it missed, in order', async () => {
    const first = subscribe('?since=0')
    for (let i = 0; i < 5; i++) await telemetry.emit(event(`a${i}`))
    const seen = (await first.until(5)).slice()
    const last = seen[4]!.id!
    first.close()
    await until('the first subscriber gone', async () => (await openReaders()) === 0)
    for (let i = 0; i < 7; i++) await telemetry.emit(event(`b${i}`))
    // The URL it reconnects with still says since=0: Last-Event-ID wins.
    const again = subscribe('?since=0', { ...auth, 'last-event-id': last })
    const got = (await again.until(7)).slice(0, 7)
    await telemetry.emit(event('c0'))
    await again.until(8)
    expect(again.messages.map((m) => JSON.parse(m.data).jobId)).toEqual([
      ...Array.from({ length: 7 }, (_, i) => `b${i}`),
      'c0',
    ])
    const ids = got.map((m) => m.id!)
    expect(new Set([...seen.map((m) => m.id), ...ids]).size).toBe(5 + 7)
  })

  it('filters by house, job and type (several types comma-separated)', async () => {
    await telemetry.emit(event('j1', 'ezra'))
    await telemetry.emit(event('j2', 'bezalel'))
    await telemetry.emit(event('j2', 'bezalel', 'job.started'))
    await telemetry.emit(event('j3', 'bezalel'))
    const byHouse = subscribe('?since=0&house=bezalel')
    const byJob = subscribe('?since=0&job=j2&type=job.started')
    const byTypes = subscribe('?since=0&type=job.started,job.queued&house=ezra')
    await byHouse.until(3)
    await byJob.until(1)
    await byTypes.until(1)
    await new Promise((r) => setTimeout(r, 300))
    expect(byHouse.messages.map((m) => `${m.event} ${JSON.parse(m.data).jobId}`)).toEqual([
      'job.queued j2',
      'job.started j2',
      'job.queued j3',
    ])
    expect(byJob.messages.map((m) => `${m.event} ${JSON.parse(m.data).jobId}`)).toEqual(['job.started j2'])
    expect(byTypes.messages.map((m) => JSON.parse(m.data).jobId)).toEqual(['j1'])
  })

  it('sends keepalive comments while nothing happens', async () => {
    const sub = subscribe('?type=report.posted')
    await telemetry.emit(event('j1'))
    await until('two keepalives', async () => sub.comments >= 3, 3000)
    expect(sub.messages).toEqual([])
  })

  it.each([
    ['no header', {}, /Authorization: Bearer/],
    ['another scheme', { authorization: `Basic ${TOKEN}` }, /Authorization: Bearer/],
    ['a wrong token', { authorization: 'Bearer not-the-token-at-all' }, /wrong bearer token/],
    ['the token cut short', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }, /wrong bearer token/],
  ])('answers 401 with a reason to %s, opening no reader', async (_name, headers, reason) => {
    const res = await fetch(`${http.url}/telemetry/stream`, { headers })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/)
    expect(((await res.json()) as { error: string }).error).toMatch(reason)
    expect(await openReaders()).toBe(0)
  })

  it.each([
    ['?since=yesterday', /\?since=: a telemetry event id/],
    ['?type=job.exploded', /\?type=.*an event type: job.queued/],
    ['?type=job.queued,nope', /\?type=/],
    ['?house=', /\?house=/],
    ['?colour=red', /unrecognized/i],
  ])('answers 400 to %s, opening no reader', async (query, reason) => {
    const res = await fetch(`${http.url}/telemetry/stream${query}`, { headers: auth })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: string }).error).toMatch(reason)
    expect(await openReaders()).toBe(0)
  })

  it('answers 400 to a bad Last-Event-ID', async () => {
    const res = await fetch(`${http.url}/telemetry/stream`, {
      headers: { ...auth, 'last-event-id': '1-2-3' },
    })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: string }).error).toMatch(/Last-Event-ID/)
  })

  it('answers 404 with a reason when no token is configured (or no telemetry at all)', async () => {
    for (const s of [await serve(undefined), await serve(undefined, false)]) {
      const res = await fetch(`${s.url}/telemetry/stream`, { headers: auth })
      expect(res.status).toBe(404)
      expect(((await res.json()) as { error: string }).error).toMatch(/telemetry stream is off.*tokenEnv/)
    }
    expect(await openReaders()).toBe(0)
  })

  it('closes its Redis connection when the subscriber hangs up, live or mid-replay', async () => {
    for (let i = 0; i < 50; i++) await telemetry.emit(event(`r${i}`))
    const subs = [subscribe(), subscribe('?since=0'), subscribe('?house=nobody')]
    await subs[1]!.until(50)
    await until('three readers', async () => (await openReaders()) === 3)
    for (const s of subs) s.close()
    await until('no reader left', async () => (await openReaders()) === 0)
    // The server still serves after they left.
    const next = subscribe('?since=0&job=r49')
    await next.until(1)
  })
})
