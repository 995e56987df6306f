import { hostname } from 'node:os'
import type { Registry } from 'prom-client'
import type { Config } from '../config/index.js'
import type { Logger } from '../logger.js'
import { createRedis, type RedisClient } from '../queue/connection.js'
import { httpSink, registerTelemetryMetrics, TelemetryForwarder } from '../telemetry/index.js'

/**
 * Registers the telemetry metrics on the ingress's registry and, when `telemetry.sink` is
 * configured, starts this process's forwarder (it sends only while it holds the lease, so every
 * `serve` may run one). Returns it, or undefined without a sink.
 *
 * @example
 *   const forwarder = startForwarder(config, log, { registry, redis, redisUrl, prefix: '{uw}' })
 *   await forwarder?.stop()
 */
export function startForwarder(
  config: Config,
  log: Logger,
  opts: { registry: Registry; redis: RedisClient; redisUrl: string; prefix: string },
): TelemetryForwarder | undefined {
  const sink = config.file.telemetry.sink
  const metrics = registerTelemetryMetrics(opts.registry, {
    redis: opts.redis,
    prefix: opts.prefix,
    sink: Boolean(sink),
  })
  if (!sink) return undefined
  if (!sink.token) throw new Error('telemetry.sink needs its token (sink.tokenEnv)')
  const forwarder = new TelemetryForwarder({
    redis: opts.redis,
    // Its XREAD BLOCK holds a connection of its own.
    reader: createRedis(opts.redisUrl, 'worker', { connectionName: 'uw-telemetry-forwarder' }),
    prefix: opts.prefix,
    sink,
    send: httpSink({ url: sink.url, token: sink.token, timeoutMs: sink.timeoutMs }),
    owner: `${hostname()}:${process.pid}`,
    log,
    onForwarded: (n) => metrics.forwarded.inc(n),
    onSinkError: (kind) => metrics.sinkErrors.inc({ kind }),
  })
  forwarder.start()
  return forwarder
}
