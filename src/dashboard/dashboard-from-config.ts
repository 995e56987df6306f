import type { Config } from '../config/index.js'
import { resolveHouses } from '../houses/house-policy.js'
import type { Logger } from '../logger.js'
import type { QueueDepthSource } from '../metrics/queue-metrics.js'
import type { RedisClient } from '../queue/connection.js'
import { toolsFromConfig } from '../tools/tools-from-config.js'
import { createDashboardApp } from './create-dashboard-app.js'
import type { DashboardApp, DashboardDeps } from './dashboard-env.js'
import { giteaOAuth } from './gitea-oauth.js'
import { RedisSessions } from './sessions.js'

/** Where the ingress is reached when `dashboard.publicUrl` is not set: its own address, loopback for "every interface". */
export function defaultPublicUrl(host: string, port: number): string {
  const local = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
  return `http://${local.includes(':') ? `[${local}]` : local}:${port}`
}

/**
 * The dashboard app as configured, or undefined when `dashboard.enabled` is false. Pages read
 * Redis through `redis`; OAuth2 talks to `giteaUrl` (GITEA_URL, or the sandbox's double).
 *
 * @example
 *   const dashboard = dashboardFromConfig(config, { redis, prefix: '{uw}', log, giteaUrl })
 *   if (dashboard) app.route('/', dashboard)
 */
export function dashboardFromConfig(
  config: Config,
  o: {
    redis: RedisClient
    prefix: string
    log: Logger
    giteaUrl: string | undefined
    /** The process's queue depths, for the houses page (the metrics' reader, cached briefly). */
    queueDepths?: QueueDepthSource
  } & Partial<Omit<DashboardDeps, 'config' | 'redis' | 'prefix' | 'log'>>,
): DashboardApp | undefined {
  const c = config.file.dashboard
  if (!c.enabled) return undefined
  const publicUrl = c.publicUrl ?? defaultPublicUrl(config.env.HOST, config.env.PORT)
  const oauth =
    c.oauth?.clientSecret && o.giteaUrl
      ? giteaOAuth({ giteaUrl: o.giteaUrl, clientId: c.oauth.clientId, clientSecret: c.oauth.clientSecret })
      : undefined
  const policies = resolveHouses(config.file.houses)
  const { queueDepths, ...rest } = o
  return createDashboardApp({
    ...rest,
    config: c,
    log: o.log.child({ component: 'dashboard' }),
    publicUrl,
    oauth: o.oauth ?? oauth,
    houses: o.houses ?? Object.keys(policies),
    fleet: o.fleet ?? {
      policies,
      tools: toolsFromConfig(config.file.toolSettings),
      ...(queueDepths && { queues: queueDepths }),
    },
    sessions: o.sessions ?? new RedisSessions(o.redis, o.prefix, Math.round(c.sessionTtlHours * 3600)),
  })
}
