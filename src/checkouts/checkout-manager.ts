import { mkdir, rm, stat, statfs } from 'node:fs/promises'
import path from 'node:path'
import type { Logger } from '../logger.js'
import { parseRemoteUrl } from '../tools/git/git-remote.js'
import type { GitOrigin } from '../tools/tool.js'
import type { ToolsConfig } from '../tools/tools-config.js'
import { CheckoutError } from './checkout-error.js'
import { checkoutEnv, checkoutGit, diskFull, runGit, type GitRunner } from './checkout-git.js'
import { CheckoutRequest, repoKeyOf, type CheckoutTarget } from './checkout-request.js'
import {
  checkoutDirName,
  layoutOf,
  mirrorPathsOf,
  readMeta,
  removeCheckout,
  writeMeta,
  type CheckoutLayout,
} from './checkout-dirs.js'
import { refreshRemoteRefs, workspaceDirName, workspaceWork, type WorkspaceWork } from './issue-workspace.js'
import {
  ensureMirror,
  fetchMirror,
  resolveTarget,
  touchMirror,
  type MirrorGit,
  type ResolvedTarget,
} from './mirror.js'
import { RepoLocks } from './repo-lock.js'
import { evictMirrors, idleWorkspaces, sweepCheckouts, sweepWorkspaces, type MirrorSizes } from './sweep.js'

export interface CheckoutManagerOptions {
  /** The checkout root, e.g. `<UW_DATA_DIR>/checkouts`: mirrors, worktrees, locks live under it. */
  root: string
  /**
   * Origins (`https://git.example.com`) a clone URL may name: the Gitea the bot talks to. The token
   * is only ever sent there; any other URL is refused before git runs.
   */
  allowedOrigins: readonly string[]
  /** The bot's Gitea token, read at each fetch; sent as an HTTP header through git's environment. */
  token?: () => string | undefined
  /** Mirrors are evicted least-recently-used while their total passes this many bytes (`sweep`). */
  diskBudgetBytes: number
  /** A failed job's checkout stays this long for debugging (0: removed at once). */
  keepFailedMs: number
  /** An issue workspace no job used for this long is removed by `sweep`. Default 72 hours. */
  workspaceIdleMs?: number
  log: Logger
  /** `toolSettings:` (the git author for commits made in checkouts). */
  toolConfig?: ToolsConfig
  /** A fetch waiting for another process's lock longer than this breaks it. Default 15 min. */
  staleLockMs?: number
  /** Refuse to start a checkout (transient, "the checkout disk is full") below this much free space. Default 0. */
  minFreeBytes?: number
  /** Seams for tests: the git runner and the free-space probe. */
  git?: GitRunner
  freeBytes?: (dir: string) => Promise<number>
}

/** A prepared checkout: the job's own clone, at `commit`. */
export interface Checkout {
  /** Absolute path of the checkout (the job's workspace root). */
  path: string
  /** The commit checked out (detached HEAD): the job's record, result comment and statement carry it. */
  commit: string
  /** `owner/name`, lower-cased. */
  repoKey: string
  /** For a pull request: the base branch's commit (`origin/<baseRef>` in the checkout). */
  baseCommit?: string
  /** What the result should say: the PR was force-pushed and another head was checked out, ... */
  note?: string
  /**
   * For an issue workspace that held work from earlier jobs: it was kept as it was (HEAD is
   * `commit`, not the target's), and this says what it holds and where it started.
   */
  continued?: { syncedCommit: string; what: string }
  /**
   * Ends the checkout: removes it, or on `failure` keeps it for `keepFailedMs` (then `sweep`
   * removes it). Idempotent.
   */
  release(outcome: 'success' | 'failure'): Promise<void>
}

interface FetchRecord {
  /** Sequence number taken when the fetch started: it serves requests that arrived before it. */
  seq: number
  pulls: ReadonlySet<number>
  error?: unknown
}

interface RepoState {
  last?: FetchRecord
  /** Pull requests of requests waiting for the lock, fetched with the next fetch. */
  waiting: Map<object, number | undefined>
  /** Prepares in flight (their mirror is not evicted). */
  busy: number
}

function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return code === 'ENOSPC' || code === 'EDQUOT'
}

function describe(target: CheckoutTarget): string {
  if (target.kind === 'default') return `branch ${target.branch}`
  if (target.kind === 'pull') return `pull request #${target.number}`
  return `ref ${target.ref}`
}

/**
 * Per-job checkouts of Gitea repositories: a bare mirror per repository, fetched before each job
 * (one fetch at a time per repository: requests that arrive during a fetch share the next one),
 * and a separate clone per job made from the mirror with hard links (no copy, no alternates: the
 * checkout is a self-contained repository, so the git tools' checks accept it as a workspace
 * root, and jobs never see each other's refs, index or files). See docs/CHECKOUTS.md.
 *
 * @example
 *   const checkouts = new CheckoutManager({ root, allowedOrigins: [giteaUrl], token: () => env.GITEA_TOKEN,
 *     diskBudgetBytes: 5e9, keepFailedMs: 3_600_000, log })
 *   const co = await checkouts.prepare({ repo, cloneUrl, jobId, target: { kind: 'default', branch: 'main' } }, signal)
 *   try { ...run tools with workspaceRoots: [co.path]... } finally { await co.release(outcome) }
 */
export class CheckoutManager {
  private readonly layout: CheckoutLayout
  private readonly locks: RepoLocks
  private readonly run: GitRunner
  private readonly origins: ReadonlySet<string>
  private readonly repos = new Map<string, RepoState>()
  /** Checkout directories in use in this process, as paths. */
  private readonly active = new Set<string>()
  private readonly sizes: MirrorSizes = new Map()
  private seq = 0

  constructor(private readonly opts: CheckoutManagerOptions) {
    this.layout = layoutOf(path.resolve(opts.root))
    this.locks = new RepoLocks({ staleMs: opts.staleLockMs ?? 15 * 60_000 })
    this.run = opts.git ?? runGit
    this.origins = new Set(opts.allowedOrigins.map((o) => new URL(o).origin))
  }

  /**
   * Fetches the repository's mirror and makes the job's checkout at the target. Throws a
   * CheckoutError: `bad-request`, `not-found`, `unauthorized`, `no-such-commit` (not transient),
   * `disk-full`, `network` (transient: retry the job later). Leaves nothing behind on failure.
   */
  async prepare(request: CheckoutRequest, signal: AbortSignal): Promise<Checkout> {
    const req = this.check(request)
    const repoKey = repoKeyOf(req.repo)
    const ws = req.workspace
    const checkoutPath = ws
      ? path.join(this.layout.workspaces, workspaceDirName(repoKey, ws))
      : path.join(this.layout.worktrees, checkoutDirName(req.jobId))
    const name = checkoutPath
    if (this.active.has(name))
      throw ws
        ? new CheckoutError(
            'busy',
            `the issue workspace of ${repoKey} #${ws.issue} for ${ws.house} is in use by another job`,
          )
        : new CheckoutError('bad-request', `job ${req.jobId} already has a checkout in use`)
    const log = this.opts.log.child({ repo: repoKey, jobId: req.jobId })
    const g: MirrorGit = { run: this.run, toolConfig: this.opts.toolConfig, log, repoKey, signal }
    const state = this.stateOf(repoKey)
    const ticket = {}
    const arrived = ++this.seq
    state.waiting.set(ticket, req.target.kind === 'pull' ? req.target.number : undefined)
    state.busy++
    this.active.add(name)
    const started = Date.now()
    try {
      await this.checkFreeSpace()
      const { dir, lock } = mirrorPathsOf(this.layout, repoKey)
      const resolved = await this.locks.with(repoKey, lock, signal, async () => {
        state.waiting.delete(ticket)
        await this.fetchUnlessServed(state, arrived, req, dir, g)
        await touchMirror(dir)
        const target = await resolveTarget(dir, req.target, g)
        const work = ws ? await workspaceWork(checkoutPath, g) : undefined
        if (work) {
          const kept = this.continued(work, req, repoKey, target)
          await refreshRemoteRefs(checkoutPath, dir, g)
          return kept
        }
        const resumed = ws ? undefined : await this.resumed(checkoutPath, req, started)
        if (resumed) return resumed
        // A kept checkout of an earlier run of the same job is replaced; so is a clean workspace.
        await removeCheckout(checkoutPath)
        await mkdir(path.dirname(checkoutPath), { recursive: true })
        await writeMeta(checkoutPath, {
          jobId: req.jobId,
          repoKey,
          commit: target.commit,
          startedAt: started,
          ...(ws && { workspace: { ...ws, syncedCommit: target.commit, lastUsedAt: started } }),
          ...(req.resumeMs !== undefined && { resumableUntil: started + req.resumeMs }),
        })
        // Under the lock, so eviction never removes the mirror mid-clone; hard links, no checkout yet.
        await checkoutGit(
          this.run,
          [
            'clone',
            '--quiet',
            '--no-checkout',
            '--local',
            // Commits made in the checkout need an author; toolSettings.git.author*, when set, wins.
            '--config',
            `user.name=${ws ? `uni-wizard ${ws.house}` : 'uni-wizard'}`,
            '--config',
            `user.email=${ws ? ws.house : 'uni-wizard'}@uni-wizard.invalid`,
            '--',
            dir,
            checkoutPath,
          ],
          checkoutEnv(this.opts.toolConfig, { local: true }),
          { what: `clone ${repoKey} for the job`, ...g },
        )
        return target
      })
      if (!('continued' in resolved) && !('resumed' in resolved))
        await this.checkOut(checkoutPath, req, repoKey, resolved.commit, g)
      log.info(
        {
          commit: resolved.commit,
          target: describe(req.target),
          ms: Date.now() - started,
          note: resolved.note,
          ...(ws && { workspace: checkoutPath, continued: 'continued' in resolved }),
        },
        'checkout ready',
      )
      return this.checkoutOf(checkoutPath, { jobId: req.jobId, repoKey, startedAt: started }, resolved, log)
    } catch (err) {
      this.active.delete(name)
      state.waiting.delete(ticket)
      // A workspace with work in it is never removed for a failure of this job's preparation.
      if (!ws) await removeCheckout(checkoutPath).catch(() => undefined)
      if (isDiskFull(err)) throw diskFull(`the checkout of ${repoKey}`, err)
      throw err
    } finally {
      state.busy--
    }
  }

  /**
   * An issue workspace with work in it is kept as it is: the job starts from its HEAD. Naming a
   * ref (`checkout=`/`ref=`) would have to throw that work away, so it is refused instead.
   */
  private continued(
    work: WorkspaceWork,
    req: CheckoutRequest,
    repoKey: string,
    target: ResolvedTarget,
  ): ResolvedTarget & { continued: NonNullable<Checkout['continued']> } {
    if (req.target.kind === 'ref')
      throw new CheckoutError(
        'bad-request',
        `this issue's workspace of ${repoKey} holds work (${work.what}), which checking out ${req.target.ref} would lose; ` +
          'push it (git_push) and open a pull request from it, or name the ref in a new issue',
      )
    const note =
      `continues the work in this issue's workspace, started at ${work.syncedCommit.slice(0, 12)} ` +
      `(${work.what}; the ${describe(req.target)} is ${target.commit.slice(0, 12)})`
    return {
      commit: work.head,
      note,
      continued: { syncedCommit: work.syncedCommit, what: work.what },
    }
  }

  /**
   * The checkout an earlier delivery of this job left (its worker died) when the job resumes work
   * that went on without it (`resumeMs`): kept as it is, now this process's. Anything else of the
   * same name is replaced as usual.
   */
  private async resumed(
    checkoutPath: string,
    req: CheckoutRequest,
    started: number,
  ): Promise<(ResolvedTarget & { resumed: true }) | undefined> {
    if (req.resumeMs === undefined) return undefined
    const meta = await readMeta(checkoutPath)
    const isRepo = await stat(path.join(checkoutPath, '.git')).then(
      (s) => s.isDirectory(),
      () => false,
    )
    if (meta?.jobId !== req.jobId || !meta.commit || meta.keptUntil !== undefined || !isRepo) return undefined
    await writeMeta(checkoutPath, {
      jobId: meta.jobId,
      repoKey: meta.repoKey,
      commit: meta.commit,
      startedAt: meta.startedAt,
      resumableUntil: started + req.resumeMs,
    })
    return {
      commit: meta.commit,
      note: `resumed the checkout the job's earlier worker left (at ${meta.commit.slice(0, 12)}), with the agent's work in it`,
      resumed: true,
    }
  }

  /** Points the new clone's origin at the clone URL and checks out the commit (outside the lock). */
  private async checkOut(
    checkoutPath: string,
    req: CheckoutRequest,
    repoKey: string,
    commit: string,
    g: MirrorGit,
  ): Promise<void> {
    // Both in the checkout's own repository, side by side: the config write is an atomic rename.
    const env = checkoutEnv(this.opts.toolConfig, {})
    await Promise.all([
      checkoutGit(this.run, ['-C', checkoutPath, 'config', 'remote.origin.url', req.cloneUrl], env, {
        what: `set the remote of ${repoKey}`,
        ...g,
      }),
      checkoutGit(this.run, ['-C', checkoutPath, 'checkout', '--quiet', '--detach', commit, '--'], env, {
        what: `check out ${commit.slice(0, 12)} of ${repoKey}`,
        ...g,
      }),
    ])
  }

  /**
   * The job's origin for the git tools in its checkout: `git_push`, `git_pull` and `ls-remote` to
   * exactly this URL authenticate with the bot's token (read at each use), through git's
   * environment like the mirror fetch, never a URL or a config file. Only for a clone URL on an
   * allowed origin; any other remote gets no token.
   *
   * @example
   *   harness.execute('git_push', args, { ...options, gitOrigin: checkouts.gitOrigin(cloneUrl) })
   */
  gitOrigin(cloneUrl: string): GitOrigin {
    let allowed = false
    try {
      allowed = this.origins.has(new URL(cloneUrl).origin) && !parseRemoteUrl(cloneUrl).hasCredentials
    } catch {
      allowed = false
    }
    const token = this.opts.token
    if (!allowed || !token) return { url: cloneUrl }
    return {
      url: cloneUrl,
      authorization: () => {
        const t = token()
        return t ? `token ${t}` : undefined
      },
    }
  }

  /**
   * Removes expired kept checkouts and leftovers of crashed processes, then evicts mirrors (least
   * recently used first, never one in use) while their total passes `diskBudgetBytes`. Call it
   * periodically and after jobs end.
   */
  async sweep(): Promise<void> {
    await sweepCheckouts(this.layout, this.active, this.opts.log)
    await sweepWorkspaces(this.layout, this.active, this.opts.workspaceIdleMs ?? 72 * 3600_000, this.opts.log)
    await evictMirrors({
      workspaces: await idleWorkspaces(this.layout, this.active),
      layout: this.layout,
      budget: this.opts.diskBudgetBytes,
      sizes: this.sizes,
      busy: (key) => (this.repos.get(key)?.busy ?? 0) > 0,
      locks: this.locks,
      log: this.opts.log,
    })
  }

  private check(request: CheckoutRequest): CheckoutRequest {
    const parsed = CheckoutRequest.safeParse(request)
    if (!parsed.success)
      throw new CheckoutError(
        'bad-request',
        `bad checkout request: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      )
    const req = parsed.data
    let origin: string
    try {
      if (parseRemoteUrl(req.cloneUrl).hasCredentials) throw new Error('credentials')
      origin = new URL(req.cloneUrl).origin
    } catch {
      throw new CheckoutError('bad-request', 'the clone URL must be an http(s) URL without credentials')
    }
    if (!this.origins.has(origin))
      throw new CheckoutError(
        'bad-request',
        `the clone URL's origin ${origin} is not the Gitea the bot talks to`,
      )
    return req
  }

  private stateOf(repoKey: string): RepoState {
    let s = this.repos.get(repoKey)
    if (!s) {
      s = { waiting: new Map(), busy: 0 }
      this.repos.set(repoKey, s)
    }
    return s
  }

  /**
   * Fetches unless a fetch that started after this request arrived (and brought its pull request)
   * already ran: its outcome, success or failure, serves this request too, so N jobs arriving at
   * once cost one or two fetches and a refused token one refusal.
   */
  private async fetchUnlessServed(
    state: RepoState,
    arrived: number,
    req: CheckoutRequest,
    dir: string,
    g: MirrorGit,
  ): Promise<void> {
    const pull = req.target.kind === 'pull' ? req.target.number : undefined
    const last = state.last
    if (last && last.seq > arrived && (pull === undefined || last.pulls.has(pull))) {
      if (last.error !== undefined) throw last.error
      return
    }
    const pulls = new Set<number>(pull === undefined ? [] : [pull])
    for (const p of state.waiting.values()) if (p !== undefined) pulls.add(p)
    const record: FetchRecord = { seq: ++this.seq, pulls }
    state.last = record
    let created = false
    try {
      created = await ensureMirror(dir, req.cloneUrl, g)
      await fetchMirror(dir, req.cloneUrl, pulls, this.opts.token?.(), g)
    } catch (err) {
      // A mirror whose first fetch failed (no such repository, a refused token) is not kept.
      if (created) await rm(dir, { recursive: true, force: true }).catch(() => undefined)
      // This job was cancelled or timed out: that says nothing about the repository, so the
      // requests that were waiting for this fetch run their own instead of sharing the abort.
      if (g.signal.aborted) {
        if (state.last === record) state.last = undefined
        throw err
      }
      record.error = isDiskFull(err) ? diskFull(`the fetch of ${g.repoKey}`, err) : err
      throw record.error
    }
  }

  private async checkFreeSpace(): Promise<void> {
    const min = this.opts.minFreeBytes ?? 0
    if (min <= 0) return
    await mkdir(this.layout.worktrees, { recursive: true })
    const free = await (this.opts.freeBytes ?? defaultFreeBytes)(this.layout.worktrees)
    if (free < min)
      throw diskFull('a new checkout', `${free} bytes free under ${this.opts.root}, at least ${min} needed`)
  }

  private checkoutOf(
    checkoutPath: string,
    meta: { jobId: string; repoKey: string; startedAt: number },
    resolved: ResolvedTarget & { continued?: Checkout['continued'] },
    log: Logger,
  ): Checkout {
    let released: Promise<void> | undefined
    const keepMs = this.opts.keepFailedMs
    const end = async (outcome: 'success' | 'failure'): Promise<void> => {
      const current = await readMeta(checkoutPath)
      if (current?.workspace) {
        // An issue workspace outlives its jobs, whatever their outcome: the next job of the issue
        // continues from it, and `sweep` removes it once idle for `workspaceIdleMs`.
        await writeMeta(checkoutPath, {
          ...meta,
          commit: resolved.commit,
          workspace: { ...current.workspace, lastUsedAt: Date.now() },
        })
      } else if (outcome === 'failure' && keepMs > 0) {
        const keptUntil = Date.now() + keepMs
        await writeMeta(checkoutPath, { ...meta, commit: resolved.commit, keptUntil })
        log.info({ path: checkoutPath, keptUntil: new Date(keptUntil).toISOString() }, 'failed checkout kept')
      } else await removeCheckout(checkoutPath)
    }
    return {
      path: checkoutPath,
      commit: resolved.commit,
      repoKey: meta.repoKey,
      ...(resolved.baseCommit ? { baseCommit: resolved.baseCommit } : {}),
      ...(resolved.note ? { note: resolved.note } : {}),
      ...(resolved.continued ? { continued: resolved.continued } : {}),
      release: (outcome) => {
        released ??= end(outcome).finally(() => this.active.delete(checkoutPath))
        return released
      },
    }
  }
}

async function defaultFreeBytes(dir: string): Promise<number> {
  const s = await statfs(dir)
  return s.bavail * s.bsize
}
