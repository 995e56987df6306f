// Telemetry lag (issue 14 §3): job events appended at a fixed rate (200/s by default) through
// RedisTelemetry, timed until the sink double receives them from the forwarder over HTTP, and
// until an SSE subscriber of GET /telemetry/stream receives them. Same-run baseline: a bare Redis
// XADD -> XREAD BLOCK round trip at the same rate on the same redis-server. Then the e2e bench's
// loop (bench/scenarios/e2e.ts) with telemetry on (and forwarding) against telemetry off.
// UW_BENCH_TELEMETRY_SECONDS (default 10), UW_BENCH_TELEMETRY_RATE (default 200),
// UW_BENCH_TELEMETRY_E2E_SECONDS (default 10; 0 skips the e2e comparison).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Hono } from 'hono'
import { pino } from 'pino'
import { Secret } from '../../src/config/secret.js'
import { createRedis } from '../../src/queue/connection.js'
import { startRedisServer } from '../../src/queue/redis-server.js'
import { listen } from '../../src/server/listen.js'
import { telemetryStream } from '../../src/server/telemetry-stream.js'
import {
  httpSink,
  RedisTelemetry,
  TelemetryForwarder,
  TelemetrySinkConfig,
  type TelemetryEvent,
} from '../../src/telemetry/index.js'
import { startSinkDouble } from '../../src/telemetry/double/sink-double.js'
import type { Round, Scenario } from '../scenario.js'
import { measure, quantile, startWorld } from './e2e.js'

const log = pino({ level: 'silent' })
const TOKEN = 'bench-telemetry-token-0123456789'

const sleepUntil = async (due: number) => {
  const wait = due - performance.now()
  if (wait > 0) await new Promise((r) => setTimeout(r, wait))
}
const sorted = (a: number[]) => [...a].sort((x, y) => x - y)

/** A job's events in the order a real run appends them. */
function jobEvent(i: number, tag: string): TelemetryEvent {
  const job = { jobId: `${tag}-${Math.floor(i / 5)}`, run: 1, house: 'allegro', tool: 'file_read' }
  switch (i % 5) {
    case 0:
      return { type: 'job.queued', ...job, mode: 'SIMPLE', requester: 'wren' }
    case 1:
      return { type: 'job.started', ...job, worker: 'bench:1', waitMs: 2 }
    case 2:
      return { type: 'tool.started', ...job }
    case 3:
      return { type: 'tool.finished', ...job, status: 'ok', durationMs: 1.2, attempts: 1 }
    default:
      return { type: 'job.finished', ...job, state: 'success', durationMs: 3.4 }
  }
}

/** The event's key across sink and SSE: its job and type (unique per event here). */
const keyOf = (e: { jobId?: unknown; type: string }) => `${String(e.jobId)}/${e.type}`

async function subjectRound(redisUrl: string, round: number, seconds: number, rate: number) {
  const prefix = `{btel${round}}`
  const redis = createRedis(redisUrl, 'worker')
  const telemetry = new RedisTelemetry({
    redis,
    prefix,
    retention: { maxEvents: 100_000, maxAgeHours: 24, onceTtlSeconds: 3600 },
    redact: (s) => s,
    log,
  })
  const sink = await startSinkDouble({ token: TOKEN })
  const sent = new Map<string, number>()
  const sinkLag: number[] = []
  sink.onBatch = (b) => {
    for (const e of b.events) {
      const t = sent.get(keyOf(e as { jobId?: unknown; type: string }))
      if (t !== undefined) sinkLag.push(b.at - t)
    }
  }
  const sinkConfig = TelemetrySinkConfig.parse({ url: sink.url, tokenEnv: 'X' })
  const forwarder = new TelemetryForwarder({
    redis,
    reader: createRedis(redisUrl, 'worker'),
    prefix,
    sink: sinkConfig,
    send: httpSink({ url: sink.url, token: new Secret(TOKEN), timeoutMs: sinkConfig.timeoutMs }),
    owner: 'bench:1',
    log,
  })
  forwarder.start()
  const app = new Hono()
  app.get(
    '/telemetry/stream',
    telemetryStream(
      {
        token: new Secret(TOKEN),
        prefix,
        keepaliveMs: 15_000,
        connect: () => createRedis(redisUrl, 'worker'),
      },
      log,
    ),
  )
  const http = await listen(app, { host: '127.0.0.1', port: 0 })
  const sseLag: number[] = []
  const abort = new AbortController()
  const res = await fetch(`${http.url}/telemetry/stream`, {
    headers: { authorization: `Bearer ${TOKEN}` },
    signal: abort.signal,
  })
  const reading = (async () => {
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        const now = performance.now()
        buffer += decoder.decode(chunk, { stream: true })
        let i: number
        while ((i = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, i)
          buffer = buffer.slice(i + 1)
          if (!line.startsWith('data: ')) continue
          const t = sent.get(keyOf(JSON.parse(line.slice(6)) as { jobId?: unknown; type: string }))
          if (t !== undefined) sseLag.push(now - t)
        }
      }
    } catch {
      // aborted at the end of the round
    }
  })()
  await until(() => forwarder.leading)
  await new Promise((r) => setTimeout(r, 200))
  const total = Math.round(seconds * rate)
  const t0 = performance.now()
  for (let i = 0; i < total; i++) {
    await sleepUntil(t0 + (i * 1000) / rate)
    const e = jobEvent(i, `r${round}`)
    sent.set(keyOf(e as { jobId?: unknown; type: string }), performance.now())
    void telemetry.emit(e)
  }
  const deadline = performance.now() + 10_000
  while ((sinkLag.length < total || sseLag.length < total) && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 20))
  abort.abort()
  await reading
  await forwarder.stop()
  await http.close()
  await sink.stop()
  await redis.del(`${prefix}:telemetry`, `${prefix}:telemetry-seq`, `${prefix}:telemetry-sink:ack`)
  redis.disconnect()
  return { sink: sorted(sinkLag), sse: sorted(sseLag), lost: 2 * total - sinkLag.length - sseLag.length }
}

/** The floor: XADD on one connection, XREAD BLOCK on another, at the same rate. */
async function baselineRound(redisUrl: string, round: number, seconds: number, rate: number) {
  const key = `{btelb${round}}:s`
  const writer = createRedis(redisUrl, 'worker')
  const reader = createRedis(redisUrl, 'worker')
  const sent: number[] = []
  const lag: number[] = []
  const total = Math.round(seconds * rate)
  let stop = false
  const reading = (async () => {
    let cursor = '$'
    while (!stop) {
      const reply = (await reader.xread('COUNT', 1000, 'BLOCK', 200, 'STREAMS', key, cursor)) as
        [string, [string, string[]][]][] | null
      const now = performance.now()
      for (const [id, fields] of reply?.[0]?.[1] ?? []) {
        lag.push(now - sent[Number(fields[1])]!)
        cursor = id
      }
    }
  })()
  await new Promise((r) => setTimeout(r, 100))
  const t0 = performance.now()
  for (let i = 0; i < total; i++) {
    await sleepUntil(t0 + (i * 1000) / rate)
    sent[i] = performance.now()
    void writer.xadd(key, '*', 'i', String(i))
  }
  const deadline = performance.now() + 5000
  while (lag.length < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  stop = true
  await reading
  await writer.del(key)
  writer.disconnect()
  reader.disconnect()
  return sorted(lag)
}

async function until(ok: () => boolean): Promise<void> {
  const end = Date.now() + 10_000
  while (!ok()) {
    if (Date.now() > end) throw new Error('the forwarder did not take its lease')
    await new Promise((r) => setTimeout(r, 20))
  }
}

export const telemetryScenario: Scenario = {
  name: 'telemetry',
  description:
    'Job events appended at 200/s (RedisTelemetry) -> forwarder -> sink double over HTTP, and -> GET /telemetry/stream ' +
    'subscriber; baseline: bare XADD -> XREAD BLOCK on the same Redis. Then the e2e loop with telemetry on vs off.',
  async run({ rounds, progress }) {
    const seconds = Number(process.env.UW_BENCH_TELEMETRY_SECONDS ?? 10)
    const rate = Number(process.env.UW_BENCH_TELEMETRY_RATE ?? 200)
    const e2eSeconds = Number(process.env.UW_BENCH_TELEMETRY_E2E_SECONDS ?? 10)
    if (
      !(seconds > 0 && seconds <= 600) ||
      !(rate > 0 && rate <= 5000) ||
      !(e2eSeconds >= 0 && e2eSeconds <= 600)
    )
      throw new Error(
        'UW_BENCH_TELEMETRY_SECONDS/_E2E_SECONDS must be in (0, 600], UW_BENCH_TELEMETRY_RATE in (0, 5000]',
      )
    const dir = mkdtempSync(join(tmpdir(), 'uw-bench-telemetry-'))
    const redis = await startRedisServer({ dir: join(dir, 'redis') })
    const out: Round[] = []
    let lost = 0
    try {
      await subjectRound(redis.url, 0, 1, rate) // warm-up
      await baselineRound(redis.url, 0, 1, rate)
      const e2e: { on: number[]; off: number[] }[] = []
      for (let i = 1; i <= rounds; i++) {
        const s = await subjectRound(redis.url, i, seconds, rate)
        const b = await baselineRound(redis.url, i, seconds, rate)
        lost += s.lost
        const round: Round = {
          subject: {
            sinkP50: quantile(s.sink, 0.5),
            sinkP99: quantile(s.sink, 0.99),
            sseP50: quantile(s.sse, 0.5),
            sseP99: quantile(s.sse, 0.99),
          },
          baseline: {
            sinkP50: quantile(b, 0.5),
            sinkP99: quantile(b, 0.99),
            sseP50: quantile(b, 0.5),
            sseP99: quantile(b, 0.99),
          },
        }
        progress(
          `  round ${i}/${rounds}: append -> sink p50 ${round.subject.sinkP50!.toFixed(2)} ms, p99 ${round.subject.sinkP99!.toFixed(2)} ms; ` +
            `-> SSE p50 ${round.subject.sseP50!.toFixed(2)} ms, p99 ${round.subject.sseP99!.toFixed(2)} ms; ` +
            `bare XADD->XREAD p50 ${quantile(b, 0.5).toFixed(2)} ms, p99 ${quantile(b, 0.99).toFixed(2)} ms` +
            `${s.lost > 0 ? `; ${s.lost} not received` : ''}`,
        )
        if (e2eSeconds > 0) {
          const pair = { on: [] as number[], off: [] as number[] }
          // Alternate which goes first: the first world of a round starts colder.
          for (const mode of i % 2 === 1 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
            // Each world starts on an empty Redis: a new Gitea double numbers its comments from 1
            // again, which the last world's comment claims and effect ledger would take as done.
            const flush = createRedis(redis.url, 'worker')
            await flush.flushdb()
            flush.disconnect()
            const wdir = join(dir, `e2e-${i}-${mode}`)
            const world = await startWorld(wdir, redis.url, {
              telemetry: { enabled: mode === 'on' },
            })
            try {
              await measure(world, redis.url, 2, 20) // warm-up, as the e2e bench does
              const n = await measure(world, redis.url, e2eSeconds, 20)
              pair[mode] = [quantile(n.e2eExclTool, 0.5), quantile(n.e2eExclTool, 0.99)]
            } finally {
              await world.stop()
            }
          }
          round.subject.e2eP50 = pair.on[0]!
          round.subject.e2eP99 = pair.on[1]!
          round.baseline.e2eP50 = pair.off[0]!
          round.baseline.e2eP99 = pair.off[1]!
          e2e.push(pair)
          progress(
            `  round ${i}/${rounds}: e2e excl. tool, telemetry on p50 ${pair.on[0]!.toFixed(1)} ms, p99 ${pair.on[1]!.toFixed(1)} ms; ` +
              `off p50 ${pair.off[0]!.toFixed(1)} ms, p99 ${pair.off[1]!.toFixed(1)} ms`,
          )
        }
        out.push(round)
      }
    } finally {
      await redis.stop()
      rmSync(dir, { recursive: true, force: true })
    }
    const metrics = [
      {
        key: 'sinkP50',
        label: 'append -> sink p50 (baseline: bare XADD -> XREAD)',
        unit: 'ms',
        better: 'lower' as const,
      },
      {
        key: 'sinkP99',
        label: 'append -> sink p99 (baseline: bare XADD -> XREAD)',
        unit: 'ms',
        better: 'lower' as const,
      },
      {
        key: 'sseP50',
        label: 'append -> SSE subscriber p50 (baseline: bare)',
        unit: 'ms',
        better: 'lower' as const,
      },
      {
        key: 'sseP99',
        label: 'append -> SSE subscriber p99 (baseline: bare)',
        unit: 'ms',
        better: 'lower' as const,
      },
    ]
    if (e2eSeconds > 0)
      metrics.push(
        {
          key: 'e2eP50',
          label: 'e2e excl. tool p50, telemetry on (baseline: off)',
          unit: 'ms',
          better: 'lower',
        },
        {
          key: 'e2eP99',
          label: 'e2e excl. tool p99, telemetry on (baseline: off)',
          unit: 'ms',
          better: 'lower',
        },
      )
    return {
      subject: `job events at ${rate}/s through RedisTelemetry, received by the sink (forwarder, HTTP) and an SSE subscriber`,
      baseline:
        'bare XADD -> XREAD BLOCK on two connections, same Redis, same rate; e2e: the same loop with telemetry off',
      metrics,
      rounds: out,
      targets: [
        { metric: 'sinkP99', kind: 'max', value: 10, description: 'append -> sink p99 < 10 ms' },
        { metric: 'sseP99', kind: 'max', value: 10, description: 'append -> SSE p99 < 10 ms' },
        ...(e2eSeconds > 0
          ? [
              {
                metric: 'e2eP50',
                kind: 'ratio-max' as const,
                value: 1.1,
                description: 'e2e p50 with telemetry ≤ 1.1× without',
              },
              {
                metric: 'e2eP99',
                kind: 'ratio-max' as const,
                value: 1.1,
                description: 'e2e p99 with telemetry ≤ 1.1× without',
              },
            ]
          : []),
      ],
      settings: {
        ratePerSecond: rate,
        secondsPerRound: seconds,
        e2eSecondsPerRound: e2eSeconds,
        e2eRatePerSecond: 20,
        eventsNotReceived: lost,
        sink: 'sink double over HTTP (loopback), batchSize 200, maxBatchWaitMs 0',
        redis: 'redis-server child, AOF everysec, loopback',
      },
    }
  },
}
