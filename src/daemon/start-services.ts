import { hostname } from 'node:os'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import type { Config } from '../config/index.js'
import type { Logger } from '../logger.js'
import { createRedis, DEFAULT_PREFIX } from '../queue/connection.js'
import { createEventsProducer } from '../queue/events-producer.js'
import { startRedisServer } from '../queue/redis-server.js'
import type { GiteaPort } from '../gitea/port.js'
import { resolveHouses } from '../houses/house-policy.js'
import { instanceHealth } from './instance-health.js'
import { createApp, type ReadinessCheck } from '../server/create-app.js'
import { dashboardFromConfig } from '../dashboard/dashboard-from-config.js'
import { defaultKeyDir, KeyStore } from '../provenance/key-store.js'
import { describeApprovals } from '../harness/approvals/describe-approvals.js'
import { dashboardFleet } from './dashboard-fleet.js'
import { createIngressMetrics } from '../server/ingress-metrics.js'
import { meteredGitea } from '../gitea/metered-port.js'
import { registerLoopMetrics } from './loop-metrics.js'
import { BoardQueues } from '../jobs/board-queues.js'
import { EVENTS_QUEUE } from '../queue/events-producer.js'
import { houseQueueName, REPORTS_QUEUE } from '../queue/queue-names.js'
import { registerStressMetrics } from '../metrics/index.js'
import { listen } from '../server/listen.js'
import type { TriageEngine } from '../router/event-handler.js'
import type { EventHandler } from '../router/event-handler.js'
import { settleWithin } from '../settle-within.js'
import { alertReceiver } from './alert-receiver.js'
import { startForwarder } from './start-forwarder.js'
import { startLoop, STOP_MARGIN_MS, type RunningLoop } from './start-loop.js'
import { intelligenceFor } from '../intelligence/intelligence-for.js'
import { registerIntelligenceMetrics } from '../intelligence/intelligence-metrics.js'
import { toolsFromConfig } from '../tools/tools-from-config.js'

/** One running part of the daemon; stopped in reverse start order. */
/** Services whose stop is bounded by itself. */
const SELF_BOUNDED = new Set(['loop', 'redis-server'])

interface Service {
  name: string
  /** Resolves false when it stopped, but not cleanly. */
  stop(): Promise<boolean | void>
}

/** Which pieces one process runs; several processes (machines) can share one Redis. */
export interface ServicePieces {
  /** HTTP: webhooks, health, readiness, metrics. */
  ingress: boolean
  /** The `events` consumer: handlers and the executor. */
  router: boolean
  /** The `reports` consumer: ack comment edits and reactions. */
  reporter: boolean
  /** House workers: every configured house, or the named ones. */
  workers: 'all' | readonly string[]
}

const PIECE_NAMES = ['ingress', 'router', 'reporter', 'workers'] as const

/** Everything in one process: the default of `uni-wizard serve`. */
export const ALL_PIECES: ServicePieces = { ingress: true, router: true, reporter: true, workers: 'all' }

export interface StartServicesOptions {
  /** The bot's own login (BOT_LOGIN, or GET /api/v1/user through the Gitea port). */
  resolveBotLogin: () => Promise<string>
  /** Gitea reachability for `/ready`. */
  checkGitea: ReadinessCheck
  /** Key prefix for every queue; keep one `{hash tag}` in it. Default DEFAULT_PREFIX. */
  prefix?: string
  /** Where metrics are registered. Default: a fresh registry. */
  registry?: Registry
  /** The Gitea port the router, reporter and workers use; required when any of them runs. */
  port?: GiteaPort
  /** Default ALL_PIECES. */
  pieces?: ServicePieces
  /** Handlers of non-comment events; default handlers/index.ts (triage on open, corrections). */
  eventHandlers?: readonly EventHandler[]
  /** Triage engine; default GiteaTriageService over Redis when `triage.enabled`. */
  triage?: TriageEngine
  /** House key directory (signing, approvals); default config `keys.dir`, else `<UW_DATA_DIR>/keys`. */
  keyDir?: string
  /** The Gitea URL jobs check out from; default GITEA_URL (the sandbox passes its double's). */
  giteaUrl?: string
}

/** Everything `serve` started. */
export interface RunningServices {
  /** Where the HTTP app listens, e.g. `http://0.0.0.0:3000`. */
  httpUrl: string
  /** Where `/health`, `/ready`, `/health/details` and `/metrics` answer: the ingress, or the health port. */
  healthUrl: string
  /** The Redis in use: REDIS_URL, or the embedded server's loopback URL. */
  redisUrl: string
  /** True when Redis is a child process started here (REDIS_URL unset). */
  embeddedRedis: boolean
  /** Every metric of this process (ingress, loop, houses), for `/metrics` or a worker's own port. */
  registry: Registry
  /** The router, reporter and workers, when any runs here. */
  loop: RunningLoop | undefined
  /**
   * Stops every service, newest first: HTTP, then queues, then the embedded Redis (a worker's health
   * port last, saying "draining" until then). Bounded also when
   * Redis is unreachable (see RunningLoop.stop); resolves true when everything stopped cleanly.
   */
  stop(): Promise<boolean>
}

/**
 * Starts the daemon's services in one process: Redis (embedded under `<UW_DATA_DIR>/redis` with
 * AOF and noeviction when REDIS_URL is unset), the router, reporter and house workers (see
 * `pieces`), and the HTTP ingress with its events producer. A stop first marks the health routes
 * `draining` (`/ready` 503), then stops the services in reverse order: HTTP first (no new events),
 * then the loop (workers finish within their grace period), then Redis; a process without the
 * ingress closes its health port last, so it answers "draining" through the grace period.
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
  const registry = options.registry ?? new Registry()
  /** Says "draining" on the health routes from the first moment of a stop. */
  let drain = () => {}
  const stopAll = async (): Promise<boolean> => {
    drain()
    let clean = true
    let deadline: number | undefined
    for (const service of services.splice(0).reverse()) {
      // The loop (grace period, then STOP_MARGIN_MS) and the embedded redis-server (SIGKILL after
      // 3 s) bound their own stop; the services between them share a margin.
      const result: { ok?: boolean } = {}
      const settled = service.stop().then(
        (ok) => void (result.ok = ok !== false),
        (err: unknown) => {
          log.error({ err, service: service.name }, 'stopping a service failed')
          result.ok = false
        },
      )
      if (SELF_BOUNDED.has(service.name)) {
        await settled
        deadline = undefined
      } else {
        deadline ??= Date.now() + STOP_MARGIN_MS
        await settleWithin(settled, deadline - Date.now())
      }
      if (result.ok === undefined) log.warn({ service: service.name }, 'did not stop in time')
      else log.debug({ service: service.name }, 'stopped')
      clean = result.ok === true && clean
    }
    return clean
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
    const metered = registerLoopMetrics(registry, {
      config,
      connection,
      prefix: options.prefix ?? DEFAULT_PREFIX,
    })
    services.push({ name: 'metrics', stop: () => metered.close() })
    // What the houses learned, read from the shared store at each scrape (docs/INTELLIGENCE.md).
    const policies = resolveHouses(config.file.houses)
    const tools = toolsFromConfig(config.file.toolSettings)
    registerIntelligenceMetrics(registry, {
      source: intelligenceFor({
        redis: connection,
        prefix: options.prefix ?? DEFAULT_PREFIX,
        config: config.file.intelligence,
        policies,
        tools,
      }),
      houses: Object.keys(policies),
      tools: tools.map((t) => t.name),
    })

    const events = createEventsProducer({
      connection,
      prefix: options.prefix ?? DEFAULT_PREFIX,
      dedupeTtlSeconds: config.file.dedupeTtlSeconds,
      waitReplicas: config.file.redis.waitReplicas,
      waitTimeoutMs: config.file.redis.waitTimeoutMs,
    })
    services.push({ name: 'events-producer', stop: () => events.close() })

    const pieces = options.pieces ?? ALL_PIECES
    const botLogin = await options.resolveBotLogin()
    const workers =
      pieces.workers === 'all' ? Object.keys(resolveHouses(config.file.houses)) : [...pieces.workers]
    const health = instanceHealth(config, log, {
      redis: connection,
      checkGitea: options.checkGitea,
      prefix: options.prefix ?? DEFAULT_PREFIX,
      registry,
      id: `${hostname()}:${process.pid}`,
      pieces: PIECE_NAMES.filter((p) => (p === 'workers' ? workers.length > 0 : pieces[p])),
      houses: workers,
    })
    drain = () => health.drain()
    let served: Awaited<ReturnType<typeof health.serve>> | undefined
    if (!pieces.ingress) {
      // No ingress: the health routes and /metrics get a port of their own, then the instance
      // registers. Started before the loop and stopped after everything (first in the list): through
      // the workers' grace period /ready answers 503 "draining" instead of nothing, and the entry
      // is removed once the loop stopped, while Redis is still there.
      const s = (served = await health.serve())
      services.unshift({ name: 'health', stop: () => s.close() })
      services.push({ name: 'instance', stop: () => s.beacon.stop() })
    }
    let loop: RunningLoop | undefined
    if (pieces.router || pieces.reporter || workers.length > 0) {
      if (!options.port) throw new Error('the router, reporter and workers need a Gitea port')
      loop = await startLoop({
        config,
        log,
        redisUrl,
        port: meteredGitea(options.port, metered.metrics.gitea.observe),
        botLogin,
        pieces: { router: pieces.router, reporter: pieces.reporter, workers },
        prefix: options.prefix,
        eventHandlers: options.eventHandlers,
        triage: options.triage,
        keyDir: options.keyDir,
        giteaUrl: options.giteaUrl,
        metrics: metered.metrics,
      })
      services.push({ name: 'loop', stop: () => (loop as RunningLoop).stop() })
      if (loop.stress) registerStressMetrics(registry, loop.stress)
      log.info({ router: pieces.router, reporter: pieces.reporter, workers }, 'bot loop started')
    }
    if (served)
      return { httpUrl: '', healthUrl: served.url, redisUrl, embeddedRedis, registry, loop, stop: stopAll }

    // The dashboard's queues page (bull-board) reads the bot's queues over this connection.
    const queueBoard = config.file.dashboard.enabled
      ? new BoardQueues({
          connection,
          prefix: options.prefix ?? DEFAULT_PREFIX,
          queues: [
            EVENTS_QUEUE,
            REPORTS_QUEUE,
            ...Object.keys(resolveHouses(config.file.houses)).map(houseQueueName),
          ],
        })
      : undefined
    if (queueBoard) services.push({ name: 'dashboard-queues', stop: () => queueBoard.close() })
    const forwarder = startForwarder(config, log, {
      registry,
      redis: connection,
      redisUrl,
      prefix: options.prefix ?? DEFAULT_PREFIX,
    })
    if (forwarder) services.push({ name: 'telemetry-forwarder', stop: () => forwarder.stop() })
    const dashboardKeyDir = options.keyDir ?? config.file.keys.dir ?? defaultKeyDir(config.env.UW_DATA_DIR)
    const app = createApp({
      config,
      log,
      events,
      redis: connection,
      botLogin,
      checkGitea: options.checkGitea,
      metrics: createIngressMetrics(registry),
      health: health.checks,
      instance: health.info,
      draining: health.draining,
      telemetry: {
        token: config.file.telemetry.token,
        prefix: options.prefix ?? DEFAULT_PREFIX,
        keepaliveMs: config.file.telemetry.keepaliveMs,
        // One connection per subscriber (its XREAD BLOCK holds it), named so CLIENT LIST shows them.
        connect: () => createRedis(redisUrl, 'worker', { connectionName: 'uw-telemetry-sse' }),
      },
      alerts: alertReceiver(
        config,
        log,
        connection,
        options.prefix ?? DEFAULT_PREFIX,
        options.port && meteredGitea(options.port, metered.metrics.gitea.observe),
        botLogin,
      ),
      dashboard: dashboardFromConfig(config, {
        redis: connection,
        connect: () => createRedis(redisUrl, 'worker', { connectionName: 'uw-dashboard-sse' }),
        prefix: options.prefix ?? DEFAULT_PREFIX,
        log,
        giteaUrl: options.giteaUrl ?? config.env.GITEA_URL,
        fleet: dashboardFleet({
          config,
          connection,
          prefix: options.prefix ?? DEFAULT_PREFIX,
          queues: metered.queues,
        }),
        approvalsOf: (statement) => {
          const router = new KeyStore(dashboardKeyDir).routerPublicKey()
          return describeApprovals(statement, router ? [router] : [])
        },
        queueBoard,
        keyDir: dashboardKeyDir,
        // Cancel and retry go through the loop's job system, as the executor applies /cancel and /retry.
        control: loop?.jobs,
        gitea: options.port && meteredGitea(options.port, metered.metrics.gitea.observe),
      }),
    })
    const http = await listen(app, { host: config.env.HOST, port: config.env.PORT })
    services.push({ name: 'http', stop: () => http.close() })
    log.info({ url: http.url, botLogin, webhook: `${http.url}/webhooks/gitea` }, 'listening')
    const beacon = await health.register(http.url)
    services.push({ name: 'instance', stop: () => beacon.stop() })

    return { httpUrl: http.url, healthUrl: http.url, redisUrl, embeddedRedis, registry, loop, stop: stopAll }
  } catch (err) {
    await stopAll()
    throw err
  }
}
