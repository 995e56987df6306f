import { hostname } from 'node:os'
import type { Registry } from 'prom-client'
import { backendFor } from '../agents/backend-for.js'
import type { Config } from '../config/index.js'
import { createRedactor } from '../harness/redactor.js'
import { UNI_WIZARD_VERSION } from '../harness/package-version.js'
import { createHealthApp } from '../health/health-routes.js'
import { HealthChecks, type DependencyCheck } from '../health/health-checks.js'
import { startInstanceBeacon, type InstanceBeacon } from '../health/instance-beacon.js'
import type { InstanceInfo } from '../health/instance-registry.js'
import { agentKeys } from '../houses/agent-config.js'
import { resolveHouses } from '../houses/house-policy.js'
import type { Logger } from '../logger.js'
import type { RedisClient } from '../queue/connection.js'
import type { ReadinessCheck } from '../server/create-app.js'
import { listen } from '../server/listen.js'

/** A process's health: its checks, who it is, and how it serves and registers them. */
export interface InstanceHealth {
  checks: HealthChecks
  /** This process as registered (after `serve` or `register`). */
  info(): InstanceInfo | undefined
  /** Registers the instance at `address` (its health routes' URL) and keeps it registered. */
  register(address: string): Promise<InstanceBeacon>
  /**
   * Serves the health routes on `daemon.health` (a process without the ingress), then registers.
   * The registration and the port stop apart: the entry while Redis is still there, the port last.
   */
  serve(): Promise<{ url: string; beacon: InstanceBeacon; close(): Promise<void> }>
  /** From now on the health routes say `draining` (the process is shutting down). */
  drain(): void
  draining(): boolean
}

/** A wildcard listen address is not one another machine can call: name the host instead. */
function advertised(url: string): string {
  const u = new URL(url)
  if (u.hostname === '0.0.0.0' || u.hostname === '[::]') u.hostname = hostname()
  return u.origin
}

/**
 * What a daemon process checks for `/ready` (Redis, Gitea, and the agent endpoint of each house
 * it runs workers for), and its registration in Redis (`<prefix>:instance:<id>`).
 *
 * @example
 *   const health = instanceHealth(config, log, { redis, checkGitea, prefix, registry, id, pieces, houses })
 *   const { url } = await health.serve() // worker-only: http://127.0.0.1:<port>
 */
export function instanceHealth(
  config: Config,
  log: Logger,
  opts: {
    redis: RedisClient
    checkGitea: ReadinessCheck
    prefix: string
    registry: Registry
    id: string
    pieces: string[]
    houses: string[]
  },
): InstanceHealth {
  const settings = config.file.daemon.health
  const policies = resolveHouses(config.file.houses)
  const checks: DependencyCheck[] = [
    { name: 'redis', check: async () => void (await opts.redis.ping()) },
    { name: 'gitea', check: () => opts.checkGitea() },
  ]
  for (const house of opts.houses) {
    const agent = policies[house]?.agent
    if (!agent) continue
    const backend = backendFor(agent)
    checks.push({
      name: `agent:${house}`,
      check: async (signal) => {
        const answer = await backend.health(signal)
        if (!answer.ok) throw new Error(answer.detail ?? `the ${agent.backend} endpoint is not healthy`)
      },
    })
  }
  const secrets = [
    config.env.GITEA_TOKEN,
    ...config.env.WEBHOOK_SECRET,
    ...agentKeys(Object.values(policies)),
    config.file.telemetry.token?.reveal(),
  ]
  const health = new HealthChecks(checks, {
    timeoutMs: settings.checkTimeoutMs,
    redact: createRedactor(secrets),
  })
  let info: InstanceInfo | undefined
  let draining = false
  const periodMs = config.file.daemon.workers.heartbeatMs
  const register = (address: string) => {
    info = {
      id: opts.id,
      pieces: opts.pieces,
      houses: opts.houses,
      address: settings.advertiseUrl ?? advertised(address),
      host: hostname(),
      pid: process.pid,
      startedAt: new Date().toISOString(),
      version: UNI_WIZARD_VERSION,
    }
    return startInstanceBeacon({ redis: opts.redis, prefix: opts.prefix, info, periodMs, log })
  }
  return {
    checks: health,
    info: () => info,
    register,
    drain: () => void (draining = true),
    draining: () => draining,
    async serve() {
      const app = createHealthApp({
        checks: health,
        registry: opts.registry,
        instance: () => info,
        draining: () => draining,
      })
      const port = config.env.UW_HEALTH_PORT ?? settings.port
      const http = await listen(app, { host: settings.host, port })
      log.info({ url: http.url }, 'health routes listening')
      const beacon = await register(http.url).catch(async (err: unknown) => {
        await http.close()
        throw err
      })
      return { url: http.url, beacon, close: () => http.close() }
    },
  }
}
