import { randomUUID } from 'node:crypto'
import { loadCatalogue, type CatalogueLabel } from '../../labels/catalogue.js'
import type { GiteaPort, GiteaLabel, RepoRef } from '../gitea/port.js'
import { markHop } from '../hop-trace.js'
import type { Logger } from '../logger.js'
import type { EffectLedger } from './effect-ledger.js'
import type { ReplicaWait } from '../queue/replica-wait.js'
import type { Effect, JobRequest } from './effects.js'
import { commitStatusEffects, statusKey } from '../report/commit-status.js'
import type { JobsControl } from '../jobs/jobs.js'
import type { TriageStore } from '../triage/triage-store.js'

/** What happened to one effect. */
export interface AppliedEffect {
  effect: Effect
  /** `done`: applied now; `already`: found applied before (a retry); `logged`: dry run or a log effect; `skipped`: nothing to do. */
  outcome: 'done' | 'already' | 'logged' | 'skipped'
  /** For comments: the comment's id. */
  commentId?: number
  note?: string
}

/**
 * Thrown when some effects failed. The ones before and after still ran (unless they depended on a
 * failed one), and `applied` keeps their record. `transient` says whether retrying can help.
 */
export class EffectsError extends Error {
  constructor(
    readonly applied: AppliedEffect[],
    readonly failures: { effect: Effect; error: unknown }[],
  ) {
    const first = failures[0]
    const reason = first?.error instanceof Error ? first.error.message : String(first?.error)
    super(
      `${failures.length} of ${applied.length + failures.length} effects failed; first (${first?.effect.type}): ${reason}`,
      {
        cause: first?.error,
      },
    )
    this.name = 'EffectsError'
  }

  /** Retry unless every failure says it is permanent (a GiteaError with `transient: false`). */
  get transient(): boolean {
    return this.failures.some((f) => (f.error as { transient?: unknown } | null)?.transient !== false)
  }
}

/** Things the executor needs; the router builds one per process. */
export interface ExecutorDeps {
  port: GiteaPort
  jobs: JobsControl
  ledger: EffectLedger
  log: Logger
  /** Log effects instead of applying them. */
  dryRun?: boolean
  /**
   * Labels the executor creates when an `addLabels` names one the repository lacks (matched by
   * exact name), so triage works on a repository nobody ran `labels sync` on. Default: the shipped
   * catalogue (labels/catalogue.yaml); `false` skips missing labels with a warning instead.
   */
  labelCatalogue?: readonly CatalogueLabel[] | false
  /** Where `recordTriage` effects are written; without it they are logged and skipped. */
  triageRecords?: Pick<TriageStore, 'putRecord'>
  /**
   * The bot's own login. After a crash mid-post, only a comment by this login that ends with the
   * key's marker is taken as the one posted: anyone can write a marker into a comment of theirs.
   * Without it (library use) any comment ending with the marker is taken.
   */
  botLogin?: string
  /**
   * With `redis.waitReplicas`: a comment is posted only once its claim in the ledger is on the
   * replicas, so a failover cannot lose the claim of a comment already posted and let a second
   * handler post it again (it waits for the claim's lease, then finds the comment by its marker).
   */
  replicas?: Pick<ReplicaWait, 'confirm'>
}

/** The hidden marker that ties a posted comment to its idempotency key. */
export function keyMarker(key: string): string {
  return `<!-- uw:key=${key.replace(/-{2,}/g, '-').replace(/>/g, '')} -->`
}

/**
 * The comment posted under a key: from the ledger, or, when the key is `pending` (a post that
 * crashed or failed after it may have reached Gitea), from the hidden marker at the end of a
 * comment by the bot on `issue`, which it then records. Undefined when nothing was posted.
 *
 * @example
 *   const id = await findKeyedComment({ ledger, port, botLogin }, repo, 7, 'c:d1:7:ack_0')
 */
export async function findKeyedComment(
  deps: Pick<ExecutorDeps, 'ledger' | 'port' | 'botLogin'>,
  repo: RepoRef,
  issue: number | undefined,
  key: string,
): Promise<number | undefined> {
  const entry = await deps.ledger.get(key)
  if (entry?.state === 'posted') return entry.commentId
  if (entry?.state === 'pending' && issue !== undefined) {
    const marker = keyMarker(key)
    const bot = deps.botLogin?.toLowerCase()
    const found = (await deps.port.listComments(repo, issue)).find(
      (c) => c.body.trimEnd().endsWith(marker) && (bot === undefined || c.user.login.toLowerCase() === bot),
    )
    if (found) {
      await deps.ledger.set(key, found.id)
      return found.id
    }
  }
  return undefined
}

/**
 * How long the router waits for a comment's claim to reach the replicas (`redis.waitReplicas`)
 * before it gives the event back to BullMQ to retry, so events do not pile up in router slots
 * while the primary has no replica.
 */
export const CLAIM_CONFIRM_MS = 5_000

class PermanentError extends Error {
  readonly transient = false
}

/**
 * Applies effects through the Gitea port and the job system, in order, so that applying the same
 * list again (after a crash or a BullMQ retry) duplicates nothing: comments are keyed in the ledger
 * (and marked in their body), reactions are idempotent in Gitea, labels are added or removed only
 * when needed, jobs are keyed by jobId.
 *
 * @example
 *   const executor = new Executor({ port, jobs, ledger, log, dryRun: config.file.dryRun })
 *   await executor.apply(await slashCommands.handle(event, ctx))
 */
export class Executor {
  private readonly catalogue: ReadonlyMap<string, CatalogueLabel>

  constructor(private readonly deps: ExecutorDeps) {
    const labels = deps.labelCatalogue === undefined ? loadCatalogue().labels : deps.labelCatalogue || []
    this.catalogue = new Map(labels.map((l) => [l.name, l]))
  }

  async apply(effects: readonly Effect[]): Promise<AppliedEffect[]> {
    const applied: AppliedEffect[] = []
    const failures: { effect: Effect; error: unknown }[] = []
    const failedKeys = new Set<string>()
    const labelCache = new Map<string, Promise<GiteaLabel[]>>()
    // Comments posted (or found) in this batch by key, so the job that follows its ack comment
    // does not read the ledger again for the id.
    const posted = new Map<string, number>()
    // Who claims this batch's posts in the ledger: a second handler of the same event (a router
    // that took the event over while this one still runs it) waits for these posts, never doubles them.
    const poster = randomUUID()
    for (const effect of effects) {
      try {
        if (effect.type === 'log') {
          this.deps.log[effect.level]({ ...effect.data }, effect.message)
          applied.push({ effect, outcome: 'logged' })
          continue
        }
        if (this.deps.dryRun) {
          this.deps.log.info({ effect }, 'dry run: effect not applied')
          applied.push({ effect, outcome: 'logged' })
          continue
        }
        if (effect.type === 'enqueueJob' && failedKeys.has(effect.job.ackCommentKey)) {
          throw new Error(`not enqueued: its ack comment ${effect.job.ackCommentKey} failed`)
        }
        const done = await this.applyOne(effect, labelCache, posted, poster)
        if (effect.type === 'comment' && done.commentId !== undefined) posted.set(effect.key, done.commentId)
        applied.push(done)
      } catch (error) {
        if (effect.type === 'comment') failedKeys.add(effect.key)
        this.deps.log.error({ err: error, effectType: effect.type }, 'effect failed')
        failures.push({ effect, error })
      }
    }
    if (failures.length > 0) throw new EffectsError(applied, failures)
    return applied
  }

  private labels(cache: Map<string, Promise<GiteaLabel[]>>, repo: RepoRef): Promise<GiteaLabel[]> {
    const k = `${repo.owner}/${repo.name}`
    let p = cache.get(k)
    if (!p) {
      p = this.deps.port.listLabels(repo)
      cache.set(k, p)
      // A failed read must not poison later effects in the same batch.
      p.catch(() => cache.delete(k))
    }
    return p
  }

  /**
   * Creates a catalogue label the repository lacks and adds it to the batch's label list. Two
   * processes doing this at once could both create it (Gitea does not refuse duplicate names);
   * `uni-wizard labels sync` at setup avoids the window entirely.
   */
  private async createCatalogueLabel(
    cache: Map<string, Promise<GiteaLabel[]>>,
    repo: RepoRef,
    name: string,
  ): Promise<GiteaLabel | undefined> {
    const entry = this.catalogue.get(name)
    if (!entry) return undefined
    const created = await this.deps.port.createLabel(repo, {
      name: entry.name,
      color: entry.color,
      description: entry.description,
      exclusive: entry.exclusive,
    })
    this.deps.log.info(
      { label: created.name, repo: `${repo.owner}/${repo.name}` },
      'created a missing catalogue label',
    )
    const all = await this.labels(cache, repo)
    cache.set(`${repo.owner}/${repo.name}`, Promise.resolve([...all, created]))
    return created
  }

  /**
   * The `pending` commit status of a job on a pull request, set before the job is enqueued so it
   * can never land after the job's final status (the reporter sets that, and a job that does not
   * exist yet cannot end). Claimed in the ledger like a comment, so a second handler of the same
   * event (a router that took it over) never sends it too, perhaps late, and marked done before the
   * enqueue, so applying the effect again after a crash never sends it late. Best effort: a Gitea
   * error is logged and the job is
   * enqueued anyway, because branch protection treats a missing status like a pending one and the
   * final status, which the reporter retries until it lands, is the one that matters.
   */
  private async pendingStatus(
    job: JobRequest,
    ackCommentId: number | undefined,
    poster: string,
  ): Promise<void> {
    const state = job.approval.required ? 'awaiting_approval' : 'queued'
    const statuses = commitStatusEffects(
      {
        jobId: job.jobId,
        house: job.house,
        tool: job.tool,
        repo: job.origin.repo,
        commandUrl: job.origin.commentUrl,
        checkout: job.checkout,
      },
      state,
      ackCommentId,
    )
    if (statuses.length === 0) return
    const key = statusKey(job.jobId, 'pending')
    // False: sent already (done), or another handler is sending them now.
    if ((await this.deps.ledger.claimPost(key, poster)) === false) return
    for (const s of statuses) {
      try {
        await this.deps.port.createCommitStatus(s.repo, s.sha, {
          state: s.state,
          context: s.context,
          description: s.description,
          targetUrl: s.targetUrl,
        })
      } catch (err) {
        this.deps.log.warn({ err, jobId: job.jobId, sha: s.sha }, 'pending commit status not set')
      }
    }
    await this.deps.ledger.mark(key)
  }

  private async applyOne(
    effect: Effect,
    labelCache: Map<string, Promise<GiteaLabel[]>>,
    posted: ReadonlyMap<string, number>,
    poster: string,
  ): Promise<AppliedEffect> {
    const { port, jobs, ledger } = this.deps
    switch (effect.type) {
      case 'comment': {
        const existing = await findKeyedComment(this.deps, effect.repo, effect.issue, effect.key)
        if (existing !== undefined) return { effect, outcome: 'already', commentId: existing }
        const claimedAt = Date.now()
        const claim = await ledger.claimPost(effect.key, poster)
        if (claim === false) {
          // Posted meanwhile, or another handler is posting it now: retried, it finds the comment.
          const meanwhile = await findKeyedComment(this.deps, effect.repo, effect.issue, effect.key)
          if (meanwhile !== undefined) return { effect, outcome: 'already', commentId: meanwhile }
          throw new Error(`comment ${effect.key} is being posted by another handler; will look again`)
        }
        if (claim === 'reclaimed') {
          // A post before ours was released (it failed, but may have reached Gitea) or its poster
          // presumed dead, maybe after we last looked: look for its marker again before posting.
          const landed = await findKeyedComment(this.deps, effect.repo, effect.issue, effect.key)
          if (landed !== undefined) return { effect, outcome: 'already', commentId: landed }
        }
        if (this.deps.replicas) {
          // Bounded: a router slot is not held while the primary lacks replicas; BullMQ retries.
          const confirmed = await this.deps.replicas
            .confirm(claimedAt, AbortSignal.timeout(CLAIM_CONFIRM_MS))
            .catch(() => false)
          if (!confirmed) {
            // Nothing posted: let the retry claim it at once rather than wait out this claim's lease.
            await ledger.releasePost(effect.key, poster).catch(() => undefined)
            throw new Error(
              `the claim of comment ${effect.key} did not reach a replica within ${CLAIM_CONFIRM_MS} ms (redis.waitReplicas); will claim again`,
            )
          }
        }
        let c
        try {
          c = await port.createComment(
            effect.repo,
            effect.issue,
            `${effect.body}\n\n${keyMarker(effect.key)}`,
          )
        } catch (err) {
          await ledger.releasePost(effect.key, poster).catch(() => undefined)
          throw err
        }
        await ledger.set(effect.key, c.id)
        return { effect, outcome: 'done', commentId: c.id }
      }
      case 'editComment': {
        let id: number | undefined
        let body = effect.body
        if ('commentId' in effect.target) id = effect.target.commentId
        else {
          id = await findKeyedComment(this.deps, effect.repo, undefined, effect.target.key)
          if (id === undefined)
            throw new PermanentError(`no comment was posted under key ${effect.target.key}`)
          body = `${body}\n\n${keyMarker(effect.target.key)}`
        }
        await port.editComment(effect.repo, id, body)
        return { effect, outcome: 'done', commentId: id }
      }
      case 'react':
        if ('commentId' in effect.target)
          await port.addCommentReaction(effect.repo, effect.target.commentId, effect.reaction)
        else await port.addIssueReaction(effect.repo, effect.target.issue, effect.reaction)
        return { effect, outcome: 'done' }
      case 'addLabels': {
        const [all, issue] = await Promise.all([
          this.labels(labelCache, effect.repo),
          port.getIssue(effect.repo, effect.issue),
        ])
        const have = new Set(issue.labels.map((l) => l.id))
        const ids: number[] = []
        const missing: string[] = []
        for (const name of new Set(effect.labels)) {
          const label =
            all.find((l) => l.name === name) ??
            all.find((l) => l.name.toLowerCase() === name.toLowerCase()) ??
            (await this.createCatalogueLabel(labelCache, effect.repo, name))
          if (!label) missing.push(name)
          else if (!have.has(label.id) && !ids.includes(label.id)) ids.push(label.id)
        }
        if (missing.length > 0)
          this.deps.log.warn({ labels: missing }, 'labels do not exist in the repository; not added')
        if (ids.length > 0) await port.addIssueLabels(effect.repo, effect.issue, ids)
        const note = missing.length > 0 ? `missing: ${missing.join(', ')}` : undefined
        return { effect, outcome: ids.length > 0 ? 'done' : missing.length > 0 ? 'skipped' : 'already', note }
      }
      case 'removeLabels': {
        const issue = await port.getIssue(effect.repo, effect.issue)
        const wanted = new Set(effect.labels.map((n) => n.toLowerCase()))
        const present = issue.labels.filter((l) => wanted.has(l.name.toLowerCase()))
        for (const l of present) await port.removeIssueLabel(effect.repo, effect.issue, l.id)
        return { effect, outcome: present.length > 0 ? 'done' : 'already' }
      }
      case 'assign': {
        const issue = await port.getIssue(effect.repo, effect.issue)
        const have = new Set(issue.assignees.map((a) => a.login.toLowerCase()))
        if (effect.assignees.every((a) => have.has(a.toLowerCase()))) return { effect, outcome: 'already' }
        await port.assignIssue(effect.repo, effect.issue, effect.assignees)
        return { effect, outcome: 'done' }
      }
      case 'enqueueJob': {
        let ackCommentId = posted.get(effect.job.ackCommentKey)
        if (ackCommentId === undefined) {
          const ack = await ledger.get(effect.job.ackCommentKey)
          ackCommentId = ack?.state === 'posted' ? ack.commentId : undefined
        }
        await this.pendingStatus(effect.job, ackCommentId, poster)
        await jobs.enqueue({ ...effect.job, ackCommentId })
        markHop('executor.enqueued', effect.job.origin.deliveryId)
        return { effect, outcome: 'done' }
      }
      case 'cancelJob':
        await jobs.cancel(effect.jobId, effect.by, effect.reason)
        return { effect, outcome: 'done' }
      case 'retryJob':
        await jobs.retry(effect.jobId, effect.by, effect.key, effect.byId)
        return { effect, outcome: 'done' }
      case 'approveJob':
        await jobs.approve(effect.jobId, effect.by, effect.digest, effect.comment)
        return { effect, outcome: 'done' }
      case 'denyJob':
        await jobs.deny(effect.jobId, effect.by, effect.reason)
        return { effect, outcome: 'done' }
      case 'setCommitStatus':
        await port.createCommitStatus(effect.repo, effect.sha, {
          state: effect.state,
          context: effect.context,
          description: effect.description,
          targetUrl: effect.targetUrl,
        })
        return { effect, outcome: 'done' }
      case 'recordTriage':
        if (!this.deps.triageRecords) {
          this.deps.log.warn(
            { repo: effect.record.repo, issue: effect.record.issue },
            'no triage store; record not kept',
          )
          return { effect, outcome: 'skipped', note: 'no triage store' }
        }
        await this.deps.triageRecords.putRecord(effect.record)
        return { effect, outcome: 'done' }
      case 'log':
        // Handled before dry-run; kept so the switch is exhaustive.
        return { effect, outcome: 'logged' }
    }
  }
}
