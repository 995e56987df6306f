import type { z } from 'zod'
import type { CommentEvent } from '../events/comment-event.js'
import type { RepoRef } from '../gitea/port.js'
import type { Effect, JobCheckout, JobMode } from '../effects/effects.js'
import type { JobsView } from '../jobs/jobs.js'
import type { CommandsConfig } from './commands-config.js'
import type { ParsedCommand } from '../command-parsing/parse-commands.js'
import type { Permission, PermissionLevel } from './permission.js'
import type { AgentTaskKind } from '../agents/task-kind.js'
import type { IntelligenceView } from '../intelligence/intelligence-view.js'

// What the command side sees: a command's spec and the read-only context its handler gets. The
// router builds the context (src/router/handler-context.ts); commands and handlers only read it.

/** The help a command carries; `/help` and docs/commands.md are generated from it. */
export interface CommandHelp {
  /** e.g. `/status [job]`. */
  usage: string
  description: string
  /** Full command lines; a test parses each one with the command's own schema. */
  examples: string[]
}

/**
 * One slash command, declared in its own file under `commands/` and listed in `commands/index.ts`.
 *
 * @example
 *   export const houses: CommandSpec<HousesArgs> = {
 *     name: 'houses', aliases: [], permission: 'read', args: HousesArgs,
 *     help: { usage: '/houses', description: 'Lists the houses.', examples: ['/houses'] },
 *     async handle(ctx) { return [reply(ctx, 'list', '...')] },
 *   }
 */
export interface CommandSpec<A = unknown> {
  /** Lower-case name without the slash. */
  name: string
  aliases: readonly string[]
  permission: Permission
  /** Parses the grouped tokens (`CommandInput`) into the command's arguments. */
  args: z.ZodType<A>
  help: CommandHelp
  // Method syntax on purpose: specs with different argument types share one array.
  handle(ctx: CommandContext, args: A): Effect[] | Promise<Effect[]>
}

/**
 * Finds the spec a command name refers to, by name or alias.
 *
 * @example
 *   findCommand(commands, 'h')?.name // 'help'
 */
export function findCommand(commands: readonly CommandSpec[], name: string): CommandSpec | undefined {
  const n = name.toLowerCase()
  return commands.find((c) => c.name === n || c.aliases.includes(n))
}

/** A label change on an issue, to learn from when a person corrected the bot. */
export interface LabelChangeRequest {
  repo: RepoRef
  issue: number
  /** Who changed the labels (never the bot: handlers drop the bot's own events). */
  sender: string
  deliveryId: string
  /**
   * The type label the person asked for (a `/label` command, before it is applied); without it
   * the issue's labels are re-read from Gitea.
   */
  typeLabel?: string
}

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
  /**
   * `checkout`: its jobs run in a checkout of the issue's repository; `static` (or absent): in
   * the house's fixed folders.
   */
  workspace?: 'checkout' | 'static'
  /** The house's agent (`/ask`, `/implement`, `/review` need one); absent for a tool-only house. */
  agent?: { backend: 'hermes' | 'openai'; model?: string }
  /** The house's role (`archivist`, `artificer`, ...), shown by `/houses` and used to route tasks. */
  role?: string
  /**
   * The house's Gitea login: assigning an issue to it starts `/implement` there, unassigning it
   * cancels that job (handlers/assign-to-house.ts). Absent: assignment starts nothing.
   */
  login?: string
}

/** Whether a house has a live worker, from worker heartbeats. */
export interface HouseLiveness {
  alive: boolean
  workers: number
  /** ISO time of the newest heartbeat, if any. */
  lastSeen: string | undefined
  /** Live workers under stress (their INTELLIGENT jobs run as SIMPLE), and why. */
  degraded?: readonly { worker: string; reason: string }[]
}

/** The houses, their policy and liveness. */
export interface HousesView {
  list: readonly HouseInfo[]
  /** The house `/run` uses when neither `@house` nor a `house/*` label names one. */
  defaultHouse: string | undefined
  /** Every house's sovereigns: who may run sovereign commands at all (each job narrows it to its house's). */
  sovereigns: readonly string[]
  liveness(house: string): Promise<HouseLiveness>
  /**
   * The house a task goes to when the command names none: by role (ask → analysis, implement →
   * implementation, review → sovereign review), as configured; `reason` says why, for the ack.
   */
  forTask(
    kind: AgentTaskKind,
  ): { house: string; reason: string; byRole?: { candidates: string[]; reason: string } } | { error: string }
}

/** One tool as commands see it. */
export interface ToolInfo {
  name: string
  access: 'read' | 'write'
  description: string
  /** Its argument names, when known (`/run` reads `ref=` as the checkout ref only for a tool without a `ref`). */
  args?: readonly string[]
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
  /**
   * What a job started here checks out, read through the port: the PR's head commit (and base
   * branch) for a pull request, the default branch's head for an issue, or `ref` when given
   * (validated by the caller). The clone URL is on the Gitea the bot talks to.
   *
   * @example
   *   await ctx.checkoutTarget() // { cloneUrl: 'https://gitea.example/acme/api.git', target: { kind: 'pull', number: 4, headSha, baseRef: 'main' } }
   */
  checkoutTarget(ref?: string): Promise<JobCheckout>
  houses: HousesView
  tools: readonly ToolInfo[]
  jobs: JobsView
  triage: TriageService
  limits: RateLimiter
  config: BotConfig
  /** Every command spec (for `/help` and "did you mean"). */
  commands: readonly CommandSpec[]
  /** The dashboard's command help page (`https://bot.example/dashboard/commands`), when it has a public URL; `/help` links to it. */
  commandHelpUrl?: string
  now(): Date
  /**
   * Predictions from the pattern store (docs/INTELLIGENCE.md): the ack of an INTELLIGENT job,
   * routing without `@house`, `/predict`, `/houses`. Absent: commands route and ack without them.
   */
  intelligence?: IntelligenceView
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
