import { permits } from '../commands-core/permission.js'
import type { RepoRef } from '../gitea/port.js'
import type { JobActionDeps } from './job-actions.js'
import type { DashboardUser } from './sessions.js'

/** How long a login's read permission on a repository is trusted before Gitea is asked again. */
export const VISIBILITY_TTL_MS = 60_000
/** Answers kept at most (the cache starts over beyond it). */
const MAX_CACHED = 10_000

/**
 * Who sees which jobs (docs/DASHBOARD.md "Who sees what"): admins every job; a Gitea user
 * (Login with Gitea, the sandbox's link) the jobs of repositories they can read, as Gitea's
 * collaborator permission says (public repositories included), the rule the slash commands keep
 * (a public repository cannot be used to peek at a private one's jobs); sovereigns every job; a
 * viewer token every job with `seeAll`, else only public repositories' jobs. Anything Gitea does
 * not answer counts as "cannot read". Answers are kept for `VISIBILITY_TTL_MS`.
 *
 * @example
 *   const visible = new JobVisibility(deps.actions)
 *   if (!(await visible.canRead(user, job.origin.repo))) return notFound()
 */
export class JobVisibility {
  private readonly cache = new Map<string, { ok: boolean; until: number }>()

  constructor(
    private readonly deps: Pick<JobActionDeps, 'permissionOf' | 'repoIsPublic' | 'sovereigns'>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether `user` sees every job, without asking Gitea. */
  seesAll(user: DashboardUser): boolean {
    if (user.role === 'admin') return true
    if (user.via === 'token') return user.seeAll === true
    return this.deps.sovereigns.some((s) => s.toLowerCase() === user.login.toLowerCase())
  }

  async canRead(user: DashboardUser, repo: RepoRef): Promise<boolean> {
    if (this.seesAll(user)) return true
    const who = user.via === 'token' ? 'token:' : `user:${user.login.toLowerCase()}`
    const key = `${who}\n${repo.owner.toLowerCase()}/${repo.name.toLowerCase()}`
    const hit = this.cache.get(key)
    if (hit && hit.until > this.now()) return hit.ok
    let ok: boolean
    try {
      ok =
        user.via === 'token'
          ? ((await this.deps.repoIsPublic?.(repo)) ?? false)
          : permits((await this.deps.permissionOf?.(repo, user.login)) ?? 'none', 'read')
    } catch {
      // Gitea did not answer: not shown now, asked again next time.
      return false
    }
    if (this.cache.size >= MAX_CACHED) this.cache.clear()
    this.cache.set(key, { ok, until: this.now() + VISIBILITY_TTL_MS })
    return ok
  }
}
