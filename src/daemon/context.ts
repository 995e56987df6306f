import type { CommandSpec } from '../commands-core/command-spec.js'
import type { ParsedCommand } from '../commands-core/parse-commands.js'
import type { CommentEvent } from '../events/comment-event.js'
import type { GiteaPort, RepoPermission, RepoRef } from '../gitea/port.js'
import type { CommandsConfig } from './commands-config.js'
import type { Effect, JobMode } from './effects.js'
import type { LabelChangeRequest } from './event-handler.js'
import type { JobsView } from './jobs.js'

/** A collaborator's permission from Gitea, or `sovereign` for the configured sovereigns. */
export type PermissionLevel = RepoPermission | 'sovereign'

/** One house as commands see it (from the houses file). */
export interface HouseInfo {
  name: string
  description: string
  /** Globs over tool names (`git_*`, `file_read`, `*`). */
  allowedTools: readonly string[]
  defaultMode: JobMode
  /** When jobs need a sovereign's approval besides SOVEREIGN mode. */
  approval: 'never' | 'writes' | 'always'
  /** Who may approve this house's jobs (its `sovereigns`; the worker's harness checks the same list). */
  sovereigns: readonly string[]
  /** Whether a sovereign may approve a job they asked for themselves. */
  allowSelfApproval: boolean
}

/** Whether a house has a live worker, from worker heartbeats. */
export interface HouseLiveness {
  alive: boolean
  workers: number
  /** ISO time of the newest heartbeat, if any. */
  lastSeen: string | undefined
}

/** The houses, their policy and liveness. */
export interface HousesView {
  list: readonly HouseInfo[]
  /** The house `/run` uses when neither `@house` nor a `house/*` label names one. */
  defaultHouse: string | undefined
  /** Every house's sovereigns: who may run sovereign commands at all (each job narrows it to its house's). */
  sovereigns: readonly string[]
  liveness(house: string): Promise<HouseLiveness>
}

/** One tool as commands see it. */
export interface ToolInfo {
  name: string
  access: 'read' | 'write'
  description: string
}

/** Re-runs triage on an issue; returns the effects (labels, comment) like a handler would. */
export interface TriageService {
  triage(request: {
    repo: RepoRef
    issue: number
    requester: string
    deliveryId: string
    commentId: number | undefined
  }): Promise<Effect[]>
  /** Learns from a person setting a type (`/label type/...`); optional so simple fakes can omit it. */
  learnFromLabels?(request: LabelChangeRequest): Promise<Effect[]>
}

/** A fixed-window limit: at most `limit` commands per `windowSeconds`. */
export interface RateRule {
  limit: number
  windowSeconds: number
}

/** A rate limiter's answer for one hit. */
export interface RateDecision {
  allowed: boolean
  /** True for exactly one refused hit per key and window: the one that gets the polite reply. */
  firstRefusal: boolean
  /** Seconds until the window resets. */
  resetSeconds: number
}

/**
 * Counts hits per key in fixed windows. `hitId` makes a hit idempotent: handling the same
 * command again (a retried delivery) returns the same decision without counting twice.
 */
export interface RateLimiter {
  hit(key: string, hitId: string, rule: RateRule): Promise<RateDecision>
}

/** The command side of the configuration: the file config's `commands` section. */
export type BotConfig = CommandsConfig

/** The issue or PR a comment is on, re-read from Gitea (webhook label lists can be stale). */
export interface IssueView {
  number: number
  title: string
  isPull: boolean
  state: 'open' | 'closed'
  labels: string[]
}

/**
 * The small read-only world a handler sees for one event. Reads go through narrow calls; nothing
 * here writes to Gitea or the queues (that is the executor's job).
 */
export interface HandlerContext {
  event: CommentEvent
  repo: RepoRef
  botLogin: string
  /** The issue, re-read through the port once per event. */
  issue(): Promise<IssueView>
  /** Names of the repository's labels, read once per event. */
  repoLabels(): Promise<string[]>
  /** Fails by throwing; the slash-command handler turns a failure into "denied" (fail closed). */
  permissions(login: string): Promise<PermissionLevel>
  houses: HousesView
  tools: readonly ToolInfo[]
  jobs: JobsView
  triage: TriageService
  limits: RateLimiter
  config: BotConfig
  /** Every command spec (for `/help` and "did you mean"). */
  commands: readonly CommandSpec[]
  now(): Date
}

/** What one command's `handle` sees: the event's context plus the command and its keys. */
export interface CommandContext extends HandlerContext {
  command: ParsedCommand
  requester: { login: string; id: number }
  /** The idempotency key for a comment this command posts, per purpose. */
  commentKey(purpose: string): string
  /** The job id this command would enqueue under. */
  jobId: string
}

/** What `createHandlerContext` needs; the router builds it once per process. */
export interface HandlerContextDeps {
  port: GiteaPort
  botLogin: string
  houses: HousesView
  tools: readonly ToolInfo[]
  jobs: JobsView
  triage: TriageService
  limits: RateLimiter
  config: BotConfig
  commands: readonly CommandSpec[]
  now?: () => Date
}

function once<T>(load: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined
  return () => (value ??= load())
}

/**
 * Builds the per-event context over the Gitea port. Issue, labels and permissions are read lazily
 * and at most once per event.
 *
 * @example
 *   const ctx = createHandlerContext({ port, botLogin: 'uw-bot', houses, tools, jobs, triage, limits, config, commands }, event)
 *   const effects = await slashCommands.handle(event, ctx)
 */
export function createHandlerContext(deps: HandlerContextDeps, event: CommentEvent): HandlerContext {
  const repo = { owner: event.repo.owner, name: event.repo.name }
  const sovereigns = new Set(deps.houses.sovereigns.map((s) => s.toLowerCase()))
  const permissionCache = new Map<string, Promise<PermissionLevel>>()
  return {
    event,
    repo,
    botLogin: deps.botLogin,
    issue: once(async () => {
      const i = await deps.port.getIssue(repo, event.issue.number)
      return {
        number: i.number,
        title: i.title,
        isPull: i.isPull,
        state: i.state,
        labels: i.labels.map((l) => l.name),
      }
    }),
    repoLabels: once(async () => (await deps.port.listLabels(repo)).map((l) => l.name)),
    permissions(login) {
      const key = login.toLowerCase()
      let p = permissionCache.get(key)
      if (!p) {
        p = sovereigns.has(key)
          ? Promise.resolve<PermissionLevel>('sovereign')
          : deps.port.getCollaboratorPermission(repo, login)
        permissionCache.set(key, p)
      }
      return p
    },
    houses: deps.houses,
    tools: deps.tools,
    jobs: deps.jobs,
    triage: deps.triage,
    limits: deps.limits,
    config: deps.config,
    commands: deps.commands,
    now: deps.now ?? (() => new Date()),
  }
}
