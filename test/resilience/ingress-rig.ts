import { Agent, request } from 'node:http'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { Registry } from 'prom-client'
import { loadConfig } from '../../src/config/index.js'
import { createLogger } from '../../src/logger.js'
import { createRedis } from '../../src/queue/connection.js'
import { createEventsProducer, EVENTS_QUEUE } from '../../src/queue/events-producer.js'
import { startRedisServer, type RedisServerHandle } from '../../src/queue/redis-server.js'
import { createApp } from '../../src/server/create-app.js'
import { createIngressMetrics } from '../../src/server/ingress-metrics.js'
import { listen } from '../../src/server/listen.js'
import { signBody } from '../../src/server/verify-signature.js'
import { uniquePrefix } from '../helpers/redis.js'

export const SECRET = 'resilience-secret'
export const BOT_LOGIN = 'uw-bot'

/** Headers as sent: an array value goes out as repeated header lines. */
export type RawHeaders = Record<string, string | string[]>

/** What came back: a status, or the socket error when there was no answer at all. */
export type Answer = { status: number; text: string } | { status: 0; error: string }

/**
 * The real ingress (createApp + listen, the producer `serve` uses) on loopback, against its own
 * redis-server with AOF, which a test may stop, start and restart on the same port and directory.
 */
export interface IngressRig {
  url: string
  prefix: string
  redis(): RedisServerHandle
  /** Stops Redis: SIGTERM (a clean shutdown) or SIGKILL (a crash; AOF still has every write). */
  stopRedis(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>
  startRedis(): Promise<void>
  post(headers: RawHeaders, body: Buffer, options?: { chunked?: boolean }): Promise<Answer>
  get(path: string): Promise<Answer>
  /** How many jobs of the events queue carry each delivery id, in any state. */
  jobsByDelivery(): Promise<Map<string, number>>
  /** Every key under the rig's prefix. */
  keys(): Promise<string[]>
  /** Whether the delivery id is marked as seen (BullMQ's dedupe key). */
  seen(deliveryId: string): Promise<boolean>
  /**
   * Requests sent again because a kept-alive socket was reset as it was reused: the server closed
   * it as idle (keepAliveTimeout) while the client picked it. Node's http docs give this race and
   * this retry; only a reused socket qualifies, so a reset on a fresh connection stays a failure.
   */
  resentOnReusedSocket(): number
  close(): Promise<void>
}

export async function startIngressRig(options: { maxSockets?: number } = {}): Promise<IngressRig> {
  const dir = mkdtempSync(join(tmpdir(), 'uw-resilience-redis-'))
  let redis = await startRedisServer({ dir, appendOnly: true })
  const prefix = uniquePrefix()
  const config = loadConfig({ WEBHOOK_SECRET: SECRET })
  const connection = createRedis(redis.url, 'producer')
  connection.on('error', () => undefined)
  if (connection.status !== 'ready') await new Promise((resolve) => connection.once('ready', resolve))
  const events = createEventsProducer({ connection, prefix, dedupeTtlSeconds: 3600 })
  const app = createApp({
    config,
    log: createLogger({ level: 'silent' }),
    events,
    redis: connection,
    botLogin: BOT_LOGIN,
    checkGitea: async () => undefined,
    metrics: createIngressMetrics(new Registry()),
  })
  const http = await listen(app, { host: '127.0.0.1', port: 0 })
  const agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 32 })

  // The inspector reconnects on its own; only used between phases, never while Redis is down.
  const inspector = new Redis(redis.url, { maxRetriesPerRequest: 3 })
  inspector.on('error', () => undefined)
  const queue = new Queue(EVENTS_QUEUE, { connection: inspector, prefix })
  queue.on('error', () => undefined)

  let resent = 0
  const sendOnce = (method: string, path: string, headers: RawHeaders, body?: Buffer, chunked = false) =>
    new Promise<{ answer: Answer; staleSocket: boolean }>((resolve) => {
      const req = request(`${http.url}${path}`, { method, headers, agent }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({
            answer: { status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') },
            staleSocket: false,
          }),
        )
        res.on('error', (err) => resolve({ answer: { status: 0, error: err.message }, staleSocket: false }))
      })
      req.on('error', (err: NodeJS.ErrnoException) =>
        resolve({
          answer: { status: 0, error: err.code ?? err.message },
          staleSocket: req.reusedSocket && err.code === 'ECONNRESET',
        }),
      )
      if (body && chunked) {
        req.write(body)
        req.end()
      } else req.end(body)
    })
  const send = async (method: string, path: string, headers: RawHeaders, body?: Buffer, chunked = false) => {
    const first = await sendOnce(method, path, headers, body, chunked)
    if (!first.staleSocket) return first.answer
    resent++
    return (await sendOnce(method, path, headers, body, chunked)).answer
  }

  return {
    url: http.url,
    prefix,
    redis: () => redis,
    async stopRedis(signal = 'SIGTERM') {
      if (signal === 'SIGKILL') process.kill(redis.pid, 'SIGKILL')
      await redis.stop()
    },
    async startRedis() {
      redis = await startRedisServer({ dir, port: redis.port, appendOnly: true })
    },
    post: (headers, body, o) => send('POST', '/webhooks/gitea', headers, body, o?.chunked),
    get: (path) => send('GET', path, {}),
    async jobsByDelivery() {
      const jobs = await queue.getJobs([
        'waiting',
        'active',
        'delayed',
        'completed',
        'failed',
        'prioritized',
        'paused',
      ])
      const counts = new Map<string, number>()
      for (const job of jobs) {
        const id = (job.data as { deliveryId?: string }).deliveryId ?? '(none)'
        counts.set(id, (counts.get(id) ?? 0) + 1)
      }
      return counts
    },
    async keys() {
      const out: string[] = []
      let cursor = '0'
      do {
        const [next, batch] = await inspector.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
        cursor = next
        out.push(...batch)
      } while (cursor !== '0')
      return out.sort()
    },
    resentOnReusedSocket: () => resent,
    async seen(deliveryId) {
      return (await inspector.exists(`${prefix}:${EVENTS_QUEUE}:de:${deliveryId}`)) === 1
    },
    async close() {
      agent.destroy()
      await http.close()
      await events.close()
      connection.disconnect()
      await queue.close()
      inspector.disconnect()
      await redis.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

const FIXTURES = new URL('../fixtures/webhooks/synthetic/', import.meta.url)

/** A synthetic fixture payload, parsed, for building deliveries. */
export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as Record<string, unknown>
}

/** Headers of a correctly signed JSON delivery. */
export function signedHeaders(body: Buffer, deliveryId: string, event: string): Record<string, string> {
  const sig = signBody(body, SECRET)
  return {
    'content-type': 'application/json',
    'x-gitea-delivery': deliveryId,
    'x-gitea-event': event === 'pull_request_comment' ? 'issue_comment' : event,
    'x-gitea-event-type': event,
    'x-gitea-signature': sig,
    'x-hub-signature-256': `sha256=${sig}`,
  }
}

/**
 * A distinct, correctly signed `issue_comment` delivery: its own delivery id, comment id and body,
 * so a router would see `n` different commands. `commentId` (default `1_000_000 + n`) lets a test
 * point it at a comment that exists in a Gitea double.
 */
export function commentDelivery(
  deliveryId: string,
  n: number,
  commentId = 1_000_000 + n,
): { headers: RawHeaders; body: Buffer } {
  const payload = fixture('issue_comment-created-issue.json') as {
    comment: { id: number; body: string }
  }
  payload.comment.id = commentId
  payload.comment.body = `/run git_status @bezalel\n\ndelivery ${n}`
  const body = Buffer.from(JSON.stringify(payload))
  return { headers: signedHeaders(body, deliveryId, 'issue_comment'), body }
}

/** Runs `tasks` with at most `limit` in flight; resolves with their results in order. */
export async function pool<T>(limit: number, count: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count)
  let next = 0
  const lanes = Array.from({ length: Math.min(limit, count) }, async () => {
    while (next < count) {
      const i = next++
      results[i] = await task(i)
    }
  })
  await Promise.all(lanes)
  return results
}
