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
import type { GiteaPort, RepoRef } from '../gitea/port.js'
import type { JobsView } from '../jobs/jobs.js'
import type { IntelligenceView } from '../intelligence/intelligence-view.js'

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
  /**
   * The Gitea URL the bot talks to: a repository's clone URL on another origin (Gitea's
   * ROOT_URL seen from outside, say) is rebuilt on it, since checkouts fetch only from there.
   */
  giteaUrl?: string
  /** The dashboard's command help page, when the dashboard has a public URL (`/help` links to it). */
  commandHelpUrl?: string
  now?: () => Date
  /** Predictions for commands (docs/INTELLIGENCE.md); absent, commands do without. */
  intelligence?: IntelligenceView
}

/**
 * The clone URL a checkout fetches: Gitea's own when it is on the bot's Gitea origin, else
 * `${giteaUrl}/<owner>/<name>.git` (docs/CHECKOUTS.md: the token goes only to that origin).
 *
 * @example
 *   cloneUrlOn('http://gitea:3000/a/b.git', 'https://git.example.com', { owner: 'a', name: 'b' }) // 'https://git.example.com/a/b.git'
 */
export function cloneUrlOn(cloneUrl: string, giteaUrl: string | undefined, repo: RepoRef): string {
  if (!giteaUrl) return cloneUrl
  const base = new URL(giteaUrl)
  try {
    if (new URL(cloneUrl).origin === base.origin) return cloneUrl
  } catch {
    // not a URL: rebuilt below
  }
  const root = base.href.replace(/\/+$/, '')
  return `${root}/${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.name)}.git`
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
  const issue = once(async () => {
    const i = await deps.port.getIssue(repo, event.issue.number)
    return {
      number: i.number,
      title: i.title,
      isPull: i.isPull,
      state: i.state,
      labels: i.labels.map((l) => l.name),
    }
  })
  const repository = once(() => deps.port.getRepository(repo))
  return {
    event,
    repo,
    botLogin: deps.botLogin,
    issue,
    async checkoutTarget(ref) {
      const r = await repository()
      const cloneUrl = cloneUrlOn(r.cloneUrl, deps.giteaUrl, { owner: r.owner, name: r.name })
      if (ref !== undefined) return { cloneUrl, target: { kind: 'ref', ref }, defaultBranch: r.defaultBranch }
      if ((await issue()).isPull) {
        const pr = await deps.port.getPullRequest(repo, event.issue.number)
        return {
          cloneUrl,
          target: { kind: 'pull', number: pr.number, headSha: pr.headSha, baseRef: pr.baseRef },
          defaultBranch: r.defaultBranch,
        }
      }
      return { cloneUrl, target: { kind: 'default', branch: r.defaultBranch } }
    },
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
    ...(deps.commandHelpUrl !== undefined && { commandHelpUrl: deps.commandHelpUrl }),
    now: deps.now ?? (() => new Date()),
    ...(deps.intelligence ? { intelligence: deps.intelligence } : {}),
  }
}
