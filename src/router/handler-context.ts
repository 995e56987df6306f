import type {
  BotConfig,
  CommandSpec,
  HandlerContext,
  HousesView,
  RateLimiter,
  ToolInfo,
  TriageService,
} from '../commands-core/command-spec.js'
import type { PermissionLevel } from '../commands-core/permission.js'
import type { CommentEvent } from '../events/comment-event.js'
import type { GiteaPort } from '../gitea/port.js'
import type { JobsView } from '../jobs/jobs.js'

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
