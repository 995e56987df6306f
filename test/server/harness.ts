import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { Registry } from 'prom-client'
import { loadConfig } from '../../src/config/index.js'
import { createLogger } from '../../src/logger.js'
import { createRedis } from '../../src/queue/connection.js'
import { createEventsProducer, EVENTS_QUEUE } from '../../src/queue/events-producer.js'
import { createApp, type ReadinessCheck } from '../../src/server/create-app.js'
import { createIngressMetrics, type IngressMetrics } from '../../src/server/ingress-metrics.js'
import { listen } from '../../src/server/listen.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'
import { SYNTHETIC_SECRET } from './deliveries.js'

export const BOT_LOGIN = 'uw-bot'

/** The real ingress on a real port against a real Redis, with its own queue prefix. */
export interface Ingress {
  url: string
  prefix: string
  metrics: IngressMetrics
  /** Jobs in the events queue, by state. */
  counts(): Promise<Record<string, number>>
  jobs(): Promise<{ id: string | undefined; data: unknown }[]>
  post(headers: Record<string, string>, body: string | Buffer): Promise<{ status: number; body: unknown }>
  get(path: string): Promise<{ status: number; body: unknown }>
  close(): Promise<void>
}

export async function startIngress(
  options: {
    secrets?: string[]
    redisUrl?: string
    maxBodyBytes?: number
    checkGitea?: ReadinessCheck
    /** Whether the process is shutting down (src/health/health-routes.ts). */
    draining?: () => boolean
  } = {},
): Promise<Ingress> {
  const redisUrl = options.redisUrl ?? testRedisUrl()
  const prefix = uniquePrefix()
  const config = loadConfig({ WEBHOOK_SECRET: (options.secrets ?? [SYNTHETIC_SECRET]).join(',') })
  if (options.maxBodyBytes) config.file.maxBodyBytes = options.maxBodyBytes
  const connection = createRedis(redisUrl, 'producer')
  connection.on('error', () => undefined)
  if (connection.status !== 'ready') await new Promise((resolve) => connection.once('ready', resolve))
  const events = createEventsProducer({ connection, prefix, dedupeTtlSeconds: 3600 })
  const metrics = createIngressMetrics(new Registry())
  const app = createApp({
    config,
    log: createLogger({ level: 'silent' }),
    events,
    redis: connection,
    botLogin: BOT_LOGIN,
    checkGitea: options.checkGitea ?? (async () => undefined),
    metrics,
    draining: options.draining,
  })
  const http = await listen(app, { host: '127.0.0.1', port: 0 })
  const inspector = new Redis(redisUrl, { maxRetriesPerRequest: 1 })
  inspector.on('error', () => undefined)
  const queue = new Queue(EVENTS_QUEUE, { connection: inspector, prefix })
  queue.on('error', () => undefined)
  return {
    url: http.url,
    prefix,
    metrics,
    counts: () => queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'),
    async jobs() {
      const jobs = await queue.getJobs(['waiting'])
      return jobs.map((j) => ({ id: j.id, data: j.data }))
    },
    post: (headers, body) => request(`${http.url}/webhooks/gitea`, { method: 'POST', headers, body }),
    get: (path) => request(`${http.url}${path}`, {}),
    async close() {
      await http.close()
      await events.close()
      connection.disconnect()
      await queue.close()
      inspector.disconnect()
      await cleanupPrefix(prefix, redisUrl)
    },
  }
}

async function request(url: string, init: RequestInit): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, init)
  const text = await res.text()
  let parsed: unknown = text
  try {
    parsed = JSON.parse(text)
  } catch {
    // not JSON (the metrics page): keep the text
  }
  return { status: res.status, body: parsed }
}

/** Total jobs in any state. */
export function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0)
}
