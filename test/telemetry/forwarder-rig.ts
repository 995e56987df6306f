import { Redis } from 'ioredis'
import { pino } from 'pino'
import { Secret } from '../../src/config/secret.js'
import {
  httpSink,
  RedisTelemetry,
  TelemetryForwarder,
  TelemetrySinkConfig,
  type SinkErrorKind,
  type TelemetryEvent,
} from '../../src/telemetry/index.js'
import { startSinkDouble, type RunningSinkDouble } from '../../src/telemetry/double/sink-double.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

export const SINK_TOKEN = 'sink-token-0123456789abcdef'

export const queued = (jobId: string): TelemetryEvent => ({
  type: 'job.queued',
  jobId,
  run: 1,
  house: 'ezra',
  tool: 'git_status',
  mode: 'SIMPLE',
  requester: 'alice',
})

/** Forwarders, sink doubles and telemetry over one test prefix; everything stopped by close(). */
export class ForwarderRig {
  readonly prefix = uniquePrefix()
  readonly redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 })
  readonly logs: string[] = []
  readonly log = pino({ level: 'debug' }, { write: (s: string) => void this.logs.push(s) })
  readonly errors: SinkErrorKind[] = []
  forwardedCount = 0
  private readonly forwarders: TelemetryForwarder[] = []
  private readonly sinks: RunningSinkDouble[] = []
  private readonly connections: Redis[] = [this.redis]

  telemetry(maxEvents = 100_000): RedisTelemetry {
    return new RedisTelemetry({
      redis: this.redis,
      prefix: this.prefix,
      retention: { maxEvents, maxAgeHours: 24, onceTtlSeconds: 3600 },
      redact: (s) => s,
      log: this.log,
    })
  }

  async sink(): Promise<RunningSinkDouble> {
    const s = await startSinkDouble({ token: SINK_TOKEN })
    this.sinks.push(s)
    return s
  }

  connection(): Redis {
    const c = new Redis(testRedisUrl(), { maxRetriesPerRequest: null })
    c.on('error', () => undefined)
    this.connections.push(c)
    return c
  }

  forwarder(
    url: string,
    over: Partial<Omit<TelemetrySinkConfig, 'token'>> & { owner?: string; token?: string } = {},
  ): { forwarder: TelemetryForwarder; redis: Redis } {
    const { owner, token, ...sinkOver } = over
    const sink = TelemetrySinkConfig.parse({
      url,
      tokenEnv: 'UW_SINK_TOKEN',
      retryMinMs: 10,
      retryMaxMs: 100,
      rejectedRetryMs: 1000,
      leaseMs: 1000,
      timeoutMs: 500,
      ...sinkOver,
    })
    const redis = this.connection()
    const forwarder = new TelemetryForwarder({
      redis,
      reader: this.connection(),
      prefix: this.prefix,
      sink,
      send: httpSink({ url, token: new Secret(token ?? SINK_TOKEN), timeoutMs: sink.timeoutMs }),
      owner: owner ?? 'test:1',
      log: this.log,
      blockMs: 200,
      onForwarded: (n) => void (this.forwardedCount += n),
      onSinkError: (k) => void this.errors.push(k),
    })
    this.forwarders.push(forwarder)
    forwarder.start()
    return { forwarder, redis }
  }

  async close(): Promise<void> {
    for (const f of this.forwarders) await f.stop()
    for (const s of this.sinks) await s.stop()
    await cleanupPrefix(this.prefix)
    for (const c of this.connections) c.disconnect()
  }
}

/** Polls until `check` returns something other than undefined. */
export async function until<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  ms = 20_000,
) {
  const end = Date.now() + ms
  for (;;) {
    const v = await check()
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
