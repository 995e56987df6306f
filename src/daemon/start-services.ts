import { join } from 'node:path'
import { Registry } from 'prom-client'
import type { Config } from '../config/index.js'
import type { Logger } from '../logger.js'
import { createRedis, DEFAULT_PREFIX } from '../queue/connection.js'
import { createEventsProducer } from '../queue/events-producer.js'
import { startRedisServer } from '../queue/redis-server.js'
import { createApp, type ReadinessCheck } from '../server/create-app.js'
import { createIngressMetrics } from '../server/ingress-metrics.js'
import { listen } from '../server/listen.js'

/** One running part of the daemon; stopped in reverse start order. */
interface Service {
  name: string
  stop(): Promise<void>
}

export interface StartServicesOptions {
  /** The bot's own login (BOT_LOGIN, or GET /api/v1/user through the Gitea port). */
  resolveBotLogin: () => Promise<string>
  /** Gitea reachability for `/ready`. */
  checkGitea: ReadinessCheck
  /** Key prefix for every queue; keep one `{hash tag}` in it. Default DEFAULT_PREFIX. */
  prefix?: string
  /** Where metrics are registered. Default: a fresh registry. */
  registry?: Registry
}

/** Everything `serve` started. */
export interface RunningServices {
  /** Where the HTTP app listens, e.g. `http://0.0.0.0:3000`. */
  httpUrl: string
  /** The Redis in use: REDIS_URL, or the embedded server's loopback URL. */
  redisUrl: string
  /** True when Redis is a child process started here (REDIS_URL unset). */
  embeddedRedis: boolean
  /** Stops every service, newest first: HTTP, then queues, then the embedded Redis. */
  stop(): Promise<void>
}

/**
 * Starts the daemon's services in one process: Redis (embedded under `<UW_DATA_DIR>/redis` with
 * AOF and noeviction when REDIS_URL is unset), the events producer and the HTTP ingress. Later
 * parts (router, house workers, reporter) are started here too and join the same stop list.
 * If a step fails, what was already started is stopped before the error is thrown.
 *
 * @example
 *   const services = await startServices(config, log, { resolveBotLogin: async () => 'uni-wizard',
 *     checkGitea: async () => {} })
 *   process.once('SIGTERM', () => void services.stop())
 */
export async function startServices(
  config: Config,
  log: Logger,
  options: StartServicesOptions,
): Promise<RunningServices> {
  const services: Service[] = []
  const stopAll = async () => {
    for (const service of services.splice(0).reverse()) {
      try {
        await service.stop()
        log.debug({ service: service.name }, 'stopped')
      } catch (err) {
        log.error({ err, service: service.name }, 'stopping a service failed')
      }
    }
  }

  try {
    let redisUrl = config.env.REDIS_URL
    const embeddedRedis = !redisUrl
    if (!redisUrl) {
      const dir = join(config.env.UW_DATA_DIR, 'redis')
      const redis = await startRedisServer({ dir })
      services.push({ name: 'redis-server', stop: () => redis.stop() })
      redisUrl = redis.url
      log.info({ dir: redis.dir, port: redis.port, pid: redis.pid }, 'embedded redis-server started')
    }

    const connection = createRedis(redisUrl, 'producer')
    // Connection errors surface as 503s and a failing /ready; log them without crashing.
    let lastError = ''
    connection.on('error', (err: Error) => {
      if (err.message !== lastError) log.warn({ err }, 'redis connection error')
      lastError = err.message
    })
    connection.on('ready', () => {
      lastError = ''
    })
    services.push({ name: 'redis-connection', stop: async () => void connection.disconnect() })

    const events = createEventsProducer({
      connection,
      prefix: options.prefix ?? DEFAULT_PREFIX,
      dedupeTtlSeconds: config.file.dedupeTtlSeconds,
    })
    services.push({ name: 'events-producer', stop: () => events.close() })

    const botLogin = await options.resolveBotLogin()
    const app = createApp({
      config,
      log,
      events,
      redis: connection,
      botLogin,
      checkGitea: options.checkGitea,
      metrics: createIngressMetrics(options.registry ?? new Registry()),
    })
    const http = await listen(app, { host: config.env.HOST, port: config.env.PORT })
    services.push({ name: 'http', stop: () => http.close() })
    log.info({ url: http.url, botLogin, webhook: `${http.url}/webhooks/gitea` }, 'listening')

    return { httpUrl: http.url, redisUrl, embeddedRedis, stop: stopAll }
  } catch (err) {
    await stopAll()
    throw err
  }
}
