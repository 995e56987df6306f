import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { stringify } from 'yaml'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/index.js'
import { startServices } from '../../src/daemon/start-services.js'
import { freePort } from '../../src/queue/redis-server.js'
import { registerTelemetryMetrics } from '../../src/telemetry/index.js'
import { dedupeById } from '../../src/telemetry/double/sink-double.js'
import { testRedisUrl } from '../helpers/redis.js'
import { ForwarderRig, queued, SINK_TOKEN, until } from './forwarder-rig.js'

/** A sample's value in Prometheus text, e.g. value(text, 'uw_telemetry_buffer_events'). */
function value(text: string, sample: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `))
  if (!line) throw new Error(`no sample ${sample} in\n${text}`)
  return Number(line.slice(sample.length + 1))
}

describe('telemetry forwarding metrics', () => {
  let rig: ForwarderRig
  const cleanups: (() => Promise<void> | void)[] = []
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
    await rig.close()
  })

  it('buffer depth and lag read Redis at scrape time; forwarded and error counters count what this process did', async () => {
    rig = new ForwarderRig()
    const registry = new Registry()
    const metrics = registerTelemetryMetrics(registry, { redis: rig.redis, prefix: rig.prefix, sink: true })
    const telemetry = rig.telemetry()
    const sink = await rig.sink()
    await sink.down()
    const { forwarder } = rig.forwarder(sink.url)
    for (let i = 0; i < 7; i++) await telemetry.emit(queued(`m${i}`))
    await until('a refusal', () => (rig.errors.length > 0 ? true : undefined))
    for (const k of rig.errors) metrics.sinkErrors.inc({ kind: k })
    await new Promise((r) => setTimeout(r, 1100))
    let text = await registry.metrics()
    expect(value(text, 'uw_telemetry_buffer_events')).toBe(7)
    expect(value(text, 'uw_telemetry_sink_lag_seconds')).toBeGreaterThanOrEqual(1)
    expect(value(text, 'uw_telemetry_sink_errors_total{kind="network"}')).toBeGreaterThan(0)
    expect(value(text, 'uw_telemetry_sink_errors_total{kind="rejected"}')).toBe(0)
    await sink.up()
    await until('all sent', async () =>
      (await rig.redis.hget(`${rig.prefix}:telemetry-sink:ack`, 'n')) === '7' ? true : undefined,
    )
    metrics.forwarded.inc(rig.forwardedCount)
    text = await registry.metrics()
    expect(value(text, 'uw_telemetry_buffer_events')).toBe(0)
    expect(value(text, 'uw_telemetry_sink_lag_seconds')).toBe(0)
    expect(value(text, 'uw_telemetry_events_forwarded_total')).toBe(7)
    await forwarder.stop()
  })

  it('without a sink the gauges read 0 whatever the stream holds', async () => {
    rig = new ForwarderRig()
    const registry = new Registry()
    registerTelemetryMetrics(registry, { redis: rig.redis, prefix: rig.prefix, sink: false })
    await rig.telemetry().emit(queued('x'))
    const text = await registry.metrics()
    expect(value(text, 'uw_telemetry_buffer_events')).toBe(0)
    expect(value(text, 'uw_telemetry_sink_lag_seconds')).toBe(0)
  })

  it('serve forwards to the configured sink and shows the four metrics on /metrics', async () => {
    rig = new ForwarderRig()
    const sink = await rig.sink()
    const dir = mkdtempSync(join(tmpdir(), 'uw-tmet-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const file = join(dir, 'uw.yaml')
    writeFileSync(file, stringify({ telemetry: { sink: { url: sink.url, tokenEnv: 'UW_SINK_TOKEN' } } }))
    const config = loadConfig({
      REDIS_URL: testRedisUrl(),
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
      UW_CONFIG: file,
      UW_DATA_DIR: join(dir, 'data'),
      UW_SINK_TOKEN: SINK_TOKEN,
      WEBHOOK_SECRET: 'metrics-test-secret',
    })
    const services = await startServices(config, rig.log, {
      resolveBotLogin: async () => 'uni-wizard',
      checkGitea: async () => undefined,
      prefix: rig.prefix,
      pieces: { ingress: true, router: false, reporter: false, workers: [] },
    })
    cleanups.push(() => services.stop().then(() => undefined))
    await rig.telemetry().emit(queued('served'))
    await until('forwarded', () => (dedupeById(sink.batches).events.length === 1 ? true : undefined))
    expect(dedupeById(sink.batches).events[0]).toMatchObject({ jobId: 'served', n: 1 })
    const text = await until('forwarded counted', async () => {
      const t = await (await fetch(`${services.httpUrl}/metrics`)).text()
      return t.includes('uw_telemetry_events_forwarded_total 1') ? t : undefined
    })
    expect(value(text, 'uw_telemetry_buffer_events')).toBe(0)
    expect(value(text, 'uw_telemetry_sink_lag_seconds')).toBe(0)
    expect(text).toContain('uw_telemetry_sink_errors_total{kind="server"} 0')
    expect(rig.logs.join('\n')).not.toContain(SINK_TOKEN)
  })
})
