import type { Hono } from 'hono'
import type { RedisJobStore } from '../jobs/job-store.js'
import type { Logger } from '../logger.js'
import type { TrustedKey } from '../report/verify-verdict.js'
import type { JobActionDeps } from './job-actions.js'
import type { RedisClient } from '../queue/connection.js'
import type { DashboardConfig } from './dashboard-config.js'
import type { GiteaOAuth } from './gitea-oauth.js'
import type { LoginThrottle } from './login-throttle.js'
import type { JobVisibility } from './job-visibility.js'
import type { FleetSources } from './house-overview.js'
import type { QueueBoardSource } from '../jobs/board-queues.js'
import type { DashboardSession, DashboardUser, RedisSessions } from './sessions.js'

/** One entry of the navigation. */
export interface NavItem {
  label: string
  /** Relative to the dashboard's base path. */
  path: string
}

/** What a dashboard request carries once the session middleware ran. */
export interface DashboardEnv {
  Variables: {
    /** The logged-in user; set on every route behind `requireUser`. */
    user: DashboardUser | undefined
    session: DashboardSession | undefined
    /** What the Layout needs of the app: where it is mounted and the navigation. */
    frame: { basePath: string; nav: readonly NavItem[] }
  }
}

/** The dashboard's Hono app: pages add their routes to it (paths relative to `basePath`). */
export type DashboardApp = Hono<DashboardEnv>

/**
 * Everything the dashboard reads or calls. Built once by startServices (or a test); a page takes
 * what it needs from here and never runs tools.
 */
export interface DashboardDeps {
  /** The `dashboard:` section, with its secrets filled in. */
  config: DashboardConfig
  log: Logger
  /** A connection for sessions and reads (never blocked: SSE subscribers get their own). */
  redis: RedisClient
  /** Key prefix of every Redis key (`{uw}`). */
  prefix: string
  /** Login with Gitea, when `dashboard.oauth` is configured. */
  oauth?: GiteaOAuth
  /** Where the dashboard is reached from outside; the Origin every form must come from. */
  publicUrl: string
  sessions: RedisSessions
  /** The configured houses, in configuration order (filters, the houses page). */
  houses: readonly string[]
  /** Job records and their runs' progress and agent checklists. */
  store: Pick<RedisJobStore, 'getRecord' | 'progress' | 'agentSteps'>
  /** Cancel and retry: the job system and the permission rules of the slash commands. */
  actions: JobActionDeps
  /** Which jobs a user sees (built over `actions`' permission reads). */
  visibility: JobVisibility
  /** The public keys results are verified against (the key directory's house keys). */
  trustedKeys: () => TrustedKey[]
  /** Organisation membership for `dashboard.allow.orgs` (the GiteaPort's); absent: nobody counts as a member. */
  isOrgMember?: (org: string, login: string) => Promise<boolean>
  /** One line per approval a signed statement records, checked against the router key (the verify page). */
  approvalsOf?: (statement: unknown) => readonly { text: string }[]
  /** A new Redis connection for one live-update subscriber (its XREAD BLOCK holds it). */
  connect: () => RedisClient
  /** A live-update subscriber with nothing to receive gets a keepalive this often. */
  keepaliveMs: number
  /** Counts failed token logins (`loginLimits`); absent: one over `redis` with the configured limits. */
  loginThrottle?: LoginThrottle
  /** The houses page's policies, tools and queue depths; absent: that page says so. */
  fleet?: FleetSources
  /** The bot's queues for bull-board (the queues page); absent: that page says so. */
  queueBoard?: QueueBoardSource
}

/**
 * One page of the dashboard, declared and then listed in `pages/index.ts` (the nav follows that
 * list). `register` adds its routes; every route is already behind `requireUser` and, for
 * unsafe methods, the CSRF checks.
 *
 * @example
 *   export const housesPage: DashboardPage = {
 *     nav: { label: 'Houses', path: '/houses' },
 *     register(app, deps) { app.get('/houses', (c) => render(c, { title: 'Houses' }, <Houses />)) },
 *   }
 */
export interface DashboardPage {
  /** Its entry in the navigation; none for pages reached through links (a job's page). */
  nav?: NavItem
  /** Readable without logging in (nothing in it is private: the command help `/help` links to). */
  public?: boolean
  register(app: DashboardApp, deps: DashboardDeps): void
}
