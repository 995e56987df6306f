import type { Config } from '../config/index.js'
import type { GiteaPort, RepoRef } from '../gitea/port.js'
import { resolveHouses } from '../houses/house-policy.js'
import { RedisJobStore } from '../jobs/job-store.js'
import type { JobsControl } from '../jobs/jobs.js'
import type { QueueBoardSource } from '../jobs/board-queues.js'
import type { Logger } from '../logger.js'
import { KeyStore } from '../provenance/key-store.js'
import type { RedisClient } from '../queue/connection.js'
import { createDashboardApp } from './create-dashboard-app.js'
import type { DashboardApp, DashboardDeps } from './dashboard-env.js'
import type { FleetSources } from './house-overview.js'
import { giteaOAuth } from './gitea-oauth.js'
import { JobVisibility } from './job-visibility.js'
import { RedisSessions } from './sessions.js'

/** Where the ingress is reached when `dashboard.publicUrl` is not set: its own address, loopback for "every interface". */
export function defaultPublicUrl(host: string, port: number): string {
  const local = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
  return `http://${local.includes(':') ? `[${local}]` : local}:${port}`
}

export interface DashboardWiring {
  /** The process's Redis connection (sessions, records, listings). */
  redis: RedisClient
  /** A new connection for each live-update subscriber. */
  connect: () => RedisClient
  prefix: string
  log: Logger
  /** The Gitea Login with Gitea talks to (GITEA_URL, or the sandbox's double). */
  giteaUrl: string | undefined
  /** The house key directory results are verified against. */
  keyDir: string
  /** The job system cancel and retry go through; absent in a process without the bot loop. */
  control?: JobsControl
  /** Where a login's permission on a repository is read (collaborator permission), as the router reads it. */
  gitea?: Pick<GiteaPort, 'getCollaboratorPermission' | 'getRepository' | 'isOrgMember'>
  /** The houses page's sources (src/daemon/dashboard-fleet.ts). */
  fleet?: FleetSources
  /** What a statement's approvals show (the verify page; `uni-wizard verify`'s describeApprovals). */
  approvalsOf?: DashboardDeps['approvalsOf']
  /** The bot's queues for bull-board (the queues page). */
  queueBoard?: QueueBoardSource
}

/**
 * The dashboard app as configured, or undefined when `dashboard.enabled` is false.
 *
 * @example
 *   const dashboard = dashboardFromConfig(config, { redis, connect, prefix: '{uw}', log, giteaUrl, keyDir })
 *   if (dashboard) app.route('/', dashboard)
 */
export function dashboardFromConfig(config: Config, w: DashboardWiring): DashboardApp | undefined {
  const c = config.file.dashboard
  if (!c.enabled) return undefined
  const houses = resolveHouses(config.file.houses)
  const keys = new KeyStore(w.keyDir)
  const actions = {
    control: w.control,
    permissionOf:
      w.gitea && ((repo: RepoRef, login: string) => w.gitea!.getCollaboratorPermission(repo, login)),
    repoIsPublic: w.gitea && (async (repo: RepoRef) => !(await w.gitea!.getRepository(repo)).private),
    sovereigns: [...new Set(Object.values(houses).flatMap((h) => h.sovereigns))],
  }
  return createDashboardApp({
    config: c,
    log: w.log.child({ component: 'dashboard' }),
    redis: w.redis,
    prefix: w.prefix,
    publicUrl: c.publicUrl ?? defaultPublicUrl(config.env.HOST, config.env.PORT),
    oauth:
      c.oauth?.clientSecret && w.giteaUrl
        ? giteaOAuth({ giteaUrl: w.giteaUrl, clientId: c.oauth.clientId, clientSecret: c.oauth.clientSecret })
        : undefined,
    sessions: new RedisSessions(
      w.redis,
      w.prefix,
      Math.round(c.sessionTtlHours * 3600),
      Math.round(c.sessionMaxHours * 3600),
    ),
    houses: Object.keys(houses),
    ...(w.queueBoard && { queueBoard: w.queueBoard }),
    ...(w.fleet && { fleet: w.fleet }),
    ...(w.approvalsOf && { approvalsOf: w.approvalsOf }),
    store: new RedisJobStore(w.redis, w.prefix),
    actions,
    visibility: new JobVisibility(actions),
    trustedKeys: () => keys.publicKeys().map((k) => ({ house: k.house, key: k.publicKey })),
    connect: w.connect,
    isOrgMember: w.gitea && ((org, login) => w.gitea!.isOrgMember(org, login)),
    keepaliveMs: config.file.telemetry.keepaliveMs,
  })
}
