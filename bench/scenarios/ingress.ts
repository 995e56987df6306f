import { createHmac, timingSafeEqual } from 'node:crypto'
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PerformanceObserver } from 'node:perf_hooks'
import { Queue } from 'bullmq'
import { Hono } from 'hono'
import { Registry } from 'prom-client'
import { loadConfig } from '../../src/config/index.js'
import { IssueCommentPayload } from '../../src/events/payloads.js'
import { createLogger } from '../../src/logger.js'
import { createRedis } from '../../src/queue/connection.js'
import { createEventsProducer } from '../../src/queue/events-producer.js'
import { startRedisServer } from '../../src/queue/redis-server.js'
import { createApp } from '../../src/server/create-app.js'
import { createIngressMetrics } from '../../src/server/ingress-metrics.js'
import { listen, type Listening } from '../../src/server/listen.js'
import { signBody } from '../../src/server/verify-signature.js'
import { runLoad, type LoadResult } from '../lib/load.js'
import { startStallProbe } from '../lib/stall-probe.js'
import type { Round, Scenario } from '../scenario.js'

const SECRET = 'bench-secret'
const LOADED_MS = 4000
const UNLOADED_MS = 3000
const WARMUP_MS = 1000
/** Unrecorded requests on the same server and connection before an unloaded measurement. */
const UNLOADED_WARMUP_MS = 300
const CONNECTIONS = 50

/** A 6-7 KB issue comment delivery from the contract fixtures. */
function delivery(): { body: Buffer; headers: Record<string, string> } {
  const file = new URL(
    '../../test/fixtures/webhooks/synthetic/issue_comment-created-issue.json',
    import.meta.url,
  )
  const body = readFileSync(file)
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-gitea-event': 'issue_comment',
      'x-gitea-event-type': 'issue_comment',
      'x-gitea-signature': signBody(body, SECRET),
      'x-hub-signature-256': `sha256=${signBody(body, SECRET)}`,
    },
  }
}

type Connection = ReturnType<typeof createRedis>

/** The real ingress: createApp with its producer, metrics and an info-level logger to /dev/null. */
async function startIngress(
  connection: Connection,
  prefix: string,
): Promise<{ http: Listening; close(): Promise<void> }> {
  const config = loadConfig({ WEBHOOK_SECRET: SECRET })
  const events = createEventsProducer({ connection, prefix, dedupeTtlSeconds: config.file.dedupeTtlSeconds })
  const app = createApp({
    config,
    log: createLogger({ level: 'info', destination: createWriteStream('/dev/null') }),
    events,
    redis: connection,
    botLogin: 'uni-wizard',
    checkGitea: async () => undefined,
    metrics: createIngressMetrics(new Registry()),
  })
  const http = await listen(app, { host: '127.0.0.1', port: 0 })
  return { http, close: async () => (await http.close(), await events.close()) }
}

/** The reference: bare Hono doing HMAC, JSON.parse, zod and queue.add, then 202. */
async function startReference(
  connection: Connection,
  prefix: string,
): Promise<{ http: Listening; close(): Promise<void> }> {
  const queue = new Queue('events', { connection, prefix })
  const app = new Hono()
  app.post('/webhooks/gitea', async (c) => {
    const raw = Buffer.from(await c.req.arrayBuffer())
    const given = Buffer.from(c.req.header('x-gitea-signature') ?? '', 'hex')
    const expected = createHmac('sha256', SECRET).update(raw).digest()
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return c.json({ error: 'sig' }, 401)
    const payload = IssueCommentPayload.parse(JSON.parse(raw.toString('utf8')))
    const deliveryId = c.req.header('x-gitea-delivery') ?? ''
    await queue.add('issue_comment', { deliveryId, payload })
    return c.json({ deliveryId }, 202)
  })
  const http = await listen(app, { host: '127.0.0.1', port: 0 })
  return { http, close: async () => (await http.close(), await queue.close()) }
}

function check(result: LoadResult, what: string): LoadResult {
  const ok = result.statuses['202'] ?? 0
  if (result.errors > 0 || ok !== result.requests)
    throw new Error(`${what}: ${result.errors} errors, statuses ${JSON.stringify(result.statuses)}`)
  return result
}

export const ingressScenario: Scenario = {
  name: 'ingress',
  description:
    'Signed 6-7 KB issue comments POSTed to the real ingress (HMAC, zod, dedupe+enqueue into BullMQ, metrics, logs) ' +
    'at 50 keep-alive connections and at 1, against a bare Hono reference doing HMAC, JSON.parse, zod and queue.add.',
  async run({ rounds, progress }) {
    const dir = mkdtempSync(join(tmpdir(), 'uw-bench-ingress-'))
    const redis = await startRedisServer({ dir })
    const connection = createRedis(redis.url, 'producer')
    await new Promise((resolve) => connection.once('ready', resolve))
    const { body, headers } = delivery()
    let phase = 0
    const stalls: { here: number; sibling: number; shared: number }[] = []
    const gcs: { count: number; p50: number; perRequest: number }[] = []
    const measure = async (start: typeof startIngress, connections: number, durationMs: number) => {
      const prefix = `{bench${phase++}}`
      const server = await start(connection, prefix)
      try {
        const load = { url: `${server.http.url}/webhooks/gitea`, headers, body, idPrefix: `p${phase}` }
        if (connections > 1)
          return check(await runLoad({ ...load, connections, durationMs }), `phase ${phase}`)
        // Unloaded: the first requests on a fresh server and connection, and the loaded phase's
        // garbage, are not what "unloaded latency" means; warm this server up first, and note
        // event-loop stalls here and in an idle sibling process during the measurement.
        await runLoad({ ...load, idPrefix: `w${phase}`, connections, durationMs: UNLOADED_WARMUP_MS })
        const probe = await startStallProbe()
        const gc: number[] = []
        const observer = new PerformanceObserver(
          (list) => void gc.push(...list.getEntries().map((e) => e.duration)),
        )
        observer.observe({ entryTypes: ['gc'] })
        const result = check(await runLoad({ ...load, connections, durationMs }), `phase ${phase}`)
        observer.disconnect()
        gc.sort((a, b) => a - b)
        gcs.push({
          count: gc.length,
          p50: gc[Math.floor(gc.length / 2)] ?? 0,
          perRequest: gc.length / result.requests,
        })
        const s = await probe.stop()
        stalls.push({ here: s.here.length, sibling: s.sibling.length, shared: s.shared.length })
        return result
      } finally {
        await server.close()
        await connection.flushall()
      }
    }
    try {
      // Warm both paths (JIT, Lua script cache) before anything is recorded.
      await measure(startIngress, CONNECTIONS, WARMUP_MS)
      await measure(startReference, CONNECTIONS, WARMUP_MS)
      const out: Round[] = []
      for (let i = 0; i < rounds; i++) {
        const refLoaded = await measure(startReference, CONNECTIONS, LOADED_MS)
        const realLoaded = await measure(startIngress, CONNECTIONS, LOADED_MS)
        const refIdle = await measure(startReference, 1, UNLOADED_MS)
        const realIdle = await measure(startIngress, 1, UNLOADED_MS)
        const pick = (loaded: LoadResult, idle: LoadResult) => ({
          rps: loaded.rps,
          p50: loaded.p50,
          p99: loaded.p99,
          idleP50: idle.p50,
          idleP99: idle.p99,
        })
        out.push({ subject: pick(realLoaded, realIdle), baseline: pick(refLoaded, refIdle) })
        progress(
          `  round ${i + 1}/${rounds}: ingress ${realLoaded.rps.toFixed(0)} req/s (p99 ${realLoaded.p99.toFixed(2)} ms, ` +
            `idle p99 ${realIdle.p99.toFixed(2)} ms); reference ${refLoaded.rps.toFixed(0)} req/s`,
        )
      }
      return {
        subject: 'uni-wizard ingress (createApp)',
        baseline: 'bare Hono: HMAC, JSON.parse, zod, queue.add, 202',
        metrics: [
          { key: 'rps', label: 'throughput at 50 connections', unit: 'req/s', better: 'higher' },
          { key: 'p50', label: 'p50 latency at 50 connections', unit: 'ms', better: 'lower' },
          { key: 'p99', label: 'p99 latency at 50 connections', unit: 'ms', better: 'lower' },
          { key: 'idleP50', label: 'unloaded p50 latency (1 connection)', unit: 'ms', better: 'lower' },
          { key: 'idleP99', label: 'unloaded p99 latency (1 connection)', unit: 'ms', better: 'lower' },
        ],
        rounds: out,
        targets: [
          { metric: 'rps', kind: 'ratio-min', value: 0.6, description: 'throughput ≥ 0.6× the reference' },
          { metric: 'idleP99', kind: 'max', value: 2, description: 'unloaded p99 < 2 ms' },
        ],
        settings: {
          payloadBytes: body.length,
          connections: CONNECTIONS,
          loadedSeconds: LOADED_MS / 1000,
          unloadedSeconds: UNLOADED_MS / 1000,
          redis: 'redis-server child, AOF everysec, loopback',
          generator: 'Node http keep-alive, worker thread, closed loop',
          unloadedWarmupSeconds: UNLOADED_WARMUP_MS / 1000,
          unloadedGcPausesCountMedianMsShareOfRequests: gcs
            .map((g) => `${g.count}/${g.p50.toFixed(2)}/${(100 * g.perRequest).toFixed(1)}%`)
            .join(' '),
          unloadedStallsOver20msHereSiblingBoth: stalls
            .map((s) => `${s.here}/${s.sibling}/${s.shared}`)
            .join(' '),
        },
      }
    } finally {
      connection.disconnect()
      await redis.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  },
}
