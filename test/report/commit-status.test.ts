import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { RedisEffectLedger } from '../../src/effects/effect-ledger.js'
import type { Effect, JobCheckout, JobRequest } from '../../src/effects/effects.js'
import { Executor, keyMarker } from '../../src/effects/executor.js'
import { startGiteaDouble, type RunningGiteaDouble } from '../../src/gitea/double/index.js'
import { GiteaJsAdapter } from '../../src/gitea/gitea-js-adapter.js'
import type { CommitStatusInput, RepoRef } from '../../src/gitea/port.js'
import { BullJobs } from '../../src/jobs/bull-jobs.js'
import { RedisJobStore } from '../../src/jobs/job-store.js'
import type { StoredResult } from '../../src/jobs/stored-result.js'
import { createLogger } from '../../src/logger.js'
import {
  ackCommentUrl,
  commitStateOf,
  commitStatusEffects,
  statusContext,
  statusDescription,
} from '../../src/report/commit-status.js'
import { startReporter, type RunningReporter } from '../../src/report/reporter.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

const SHA_A = 'a'.repeat(40)
const SHA_B = 'b'.repeat(40)
const pullCheckout: JobCheckout = {
  cloneUrl: 'http://git.example/o/r.git',
  target: { kind: 'pull', number: 2, headSha: SHA_A, baseRef: 'main' },
}

describe('commit status rules', () => {
  it('maps every job state to a commit state', () => {
    expect(
      (
        [
          'queued',
          'awaiting_approval',
          'running',
          'success',
          'failure',
          'unverified',
          'timeout',
          'denied',
          'cancelled',
        ] as const
      ).map((s) => [s, commitStateOf(s)]),
    ).toEqual([
      ['queued', 'pending'],
      ['awaiting_approval', 'pending'],
      ['running', 'pending'],
      ['success', 'success'],
      ['failure', 'failure'],
      ['unverified', 'failure'],
      ['timeout', 'failure'],
      ['denied', 'error'],
      ['cancelled', 'error'],
    ])
  })

  it('a stable context per house and tool; a short inert description', () => {
    expect(statusContext('bezalel', 'git_status')).toBe('uni-wizard/bezalel/git_status')
    const long = statusDescription({ house: 'h'.repeat(100), tool: 't'.repeat(100), jobId: 'j1' }, 'success')
    expect(long.length).toBeLessThanOrEqual(140)
    expect(statusDescription({ house: 'ezra', tool: 'x\n<b>', jobId: 'j1' }, 'failure')).toBe(
      'ezra/x<b> failed (job j1)',
    )
  })

  it('links the ack comment on the page of the command', () => {
    expect(ackCommentUrl('https://g.example/o/r/pulls/2#issuecomment-7', 9)).toBe(
      'https://g.example/o/r/pulls/2#issuecomment-9',
    )
    expect(ackCommentUrl('https://g.example/o/r/pulls/2', 9)).toBe(
      'https://g.example/o/r/pulls/2#issuecomment-9',
    )
    expect(ackCommentUrl('javascript:alert(1)', 9)).toBeUndefined()
    expect(ackCommentUrl('https://g.example/o/r/pulls/2', undefined)).toBeUndefined()
  })

  it('no status for a job that is not on a pull request', () => {
    const job = {
      jobId: 'j1',
      house: 'bezalel',
      tool: 'git_status',
      repo: { owner: 'o', name: 'r' },
      commandUrl: 'https://g.example/o/r/issues/1#issuecomment-3',
    }
    for (const checkout of [
      undefined,
      { cloneUrl: 'http://g.example/o/r.git', target: { kind: 'default' as const, branch: 'main' } },
      { cloneUrl: 'http://g.example/o/r.git', target: { kind: 'ref' as const, ref: 'v1' } },
    ])
      expect(commitStatusEffects({ ...job, checkout }, 'success', 4)).toEqual([])
  })

  /** A job on pull request #2 (recorded head SHA_A). */
  const pullJob = {
    jobId: 'j1',
    house: 'bezalel',
    tool: 'git_status',
    repo: { owner: 'o', name: 'r' },
    commandUrl: 'https://g.example/o/r/pulls/2#issuecomment-3',
    checkout: pullCheckout,
  }

  it('force-pushed meanwhile: the verdict on the commit the job ran on, `error` on the recorded head', () => {
    const job = pullJob
    expect(commitStatusEffects({ ...job, commit: SHA_B }, 'success', 4).map((e) => [e.sha, e.state])).toEqual(
      [
        [SHA_B, 'success'],
        [SHA_A, 'error'],
      ],
    )
    expect(commitStatusEffects({ ...job, commit: SHA_A }, 'success', 4).map((e) => [e.sha, e.state])).toEqual(
      [[SHA_A, 'success']],
    )
    // Waiting states always go on the head the comment was written against.
    expect(commitStatusEffects({ ...job, commit: SHA_B }, 'running', 4).map((e) => e.sha)).toEqual([SHA_A])
  })

  it("a run that continued its issue workspace's local work: the verdict on the PR head, saying so", () => {
    const job = pullJob
    const effects = commitStatusEffects({ ...job, commit: SHA_B, continued: true }, 'success', 4)
    // Never on the local commit (Gitea does not know it), never an `error` claiming the head moved.
    expect(effects.map((e) => [e.sha, e.state])).toEqual([[SHA_A, 'success']])
    expect(effects[0]?.description).toContain("issue workspace's local work")
    expect(effects[0]?.description).not.toContain('head moved')
  })
})

/** Lets a test act just before a status reaches Gitea. */
class HookedAdapter extends GiteaJsAdapter {
  before: ((sha: string, status: CommitStatusInput) => Promise<void>) | undefined
  override async createCommitStatus(repo: RepoRef, sha: string, status: CommitStatusInput): Promise<void> {
    await this.before?.(sha, status)
    return super.createCommitStatus(repo, sha, status)
  }
}

describe('commit statuses of a job on a pull request (double over HTTP, real Redis)', () => {
  const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 })
  const log = createLogger({ level: 'silent' })
  let running: RunningGiteaDouble
  let prefix: string
  let repo: RepoRef
  let headSha: string
  let pull: { number: number; htmlUrl: string }
  let port: HookedAdapter
  let store: RedisJobStore
  let jobs: BullJobs
  let ledger: RedisEffectLedger
  let reporter: RunningReporter | undefined
  let seq = 0

  beforeEach(async () => {
    prefix = uniquePrefix()
    running = await startGiteaDouble()
    const d = running.double
    const bot = d.createUser({ login: 'gitea-bot' })
    d.createUser({ login: 'alice' })
    repo = d.createRepo({ owner: 'alice', name: 'demo', git: true })
    d.addCollaborator(repo, 'gitea-bot', 'write')
    d.seedCommits(repo, { 'README.md': '# demo\n' }, 'Initial commit')
    headSha = d.seedCommits(repo, { 'a.txt': 'a\n' }, 'Work', { branch: 'feature' })
    port = new HookedAdapter({ baseUrl: running.url, token: bot.token, retry: { attempts: 1 } })
    const pr = await port.createPullRequest(repo, { head: 'feature', base: 'main', title: 'Add a', body: '' })
    pull = { number: pr.number, htmlUrl: pr.htmlUrl }
    store = new RedisJobStore(redis, prefix)
    jobs = new BullJobs({ connection: redis, prefix, store, houses: ['bezalel'], log, reportAttempts: 20 })
    ledger = new RedisEffectLedger(redis, prefix)
    reporter = await startReporter({
      connection: redis.duplicate({ maxRetriesPerRequest: null }),
      prefix,
      store,
      port,
      ledger,
      settings: {
        concurrency: 1,
        attempts: 20,
        backoffMs: 10,
        maxBackoffMs: 20,
        outputCap: 1000,
        lockDurationMs: 10_000,
        stalledIntervalMs: 2_000,
      },
      botLogin: 'gitea-bot',
      log,
    })
  })

  afterEach(async () => {
    await reporter?.close()
    await jobs.close()
    await running.stop()
    await cleanupPrefix(prefix)
  })

  afterAll(() => redis.disconnect())

  function request(kind: 'pull' | 'issue'): { effects: Effect[]; job: JobRequest } {
    seq += 1
    const issue = kind === 'pull' ? pull.number : 1
    const job: JobRequest = {
      jobId: `j${seq}`,
      house: 'bezalel',
      tool: 'git_status',
      args: {},
      mode: 'SIMPLE',
      dryRun: false,
      requester: { login: 'alice', id: 2 },
      origin: {
        deliveryId: `d${seq}`,
        repo,
        issue,
        commentId: 1,
        commentUrl: `${pull.htmlUrl}#issuecomment-1`,
        command: '/run git_status @bezalel',
      },
      approval: { required: false, approvers: [], ttlSeconds: 3600 },
      ackCommentKey: `c:d${seq}:1:ack_0`,
      checkout: {
        cloneUrl: running.double.cloneUrl(repo),
        target:
          kind === 'pull'
            ? { kind: 'pull', number: pull.number, headSha, baseRef: 'main' }
            : { kind: 'default', branch: 'main' },
      },
    }
    return {
      job,
      effects: [
        { type: 'comment', repo, issue: pull.number, key: job.ackCommentKey, body: '⏳ queued' },
        { type: 'enqueueJob', job },
      ],
    }
  }

  function result(status: StoredResult['status']): string {
    const r: StoredResult = {
      status,
      output: 'ok',
      truncatedBytes: 0,
      durationMs: 1,
      attempts: 1,
      notes: [],
      host: 'test',
    }
    return JSON.stringify(r)
  }

  async function end(jobId: string, state: 'success' | 'failure'): Promise<void> {
    const rec = await store.getRecord(jobId)
    if (!rec) throw new Error('no record')
    await jobs.endRun(rec, { state, finishedAt: new Date().toISOString() }, result(state))
  }

  const statuses = (sha = headSha) =>
    running.double.statusesOf(repo, sha).map((s) => ({
      state: s.state,
      context: s.context,
      targetUrl: s.targetUrl,
      description: s.description,
    }))

  async function until(check: () => boolean): Promise<void> {
    const deadline = Date.now() + 10_000
    while (!check()) {
      if (Date.now() > deadline) throw new Error('timed out waiting')
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  async function ackUrl(): Promise<string> {
    const comments = await port.listComments(repo, pull.number)
    expect(comments).toHaveLength(1)
    return comments[0]!.htmlUrl
  }

  it('pending when queued, success at the end: stable context, target URL = the ack comment', async () => {
    const { effects, job } = request('pull')
    const executor = new Executor({ port, jobs, ledger, log })
    await executor.apply(effects)
    const url = await ackUrl()
    expect(ackCommentUrl(job.origin.commentUrl, Number(url.split('-').pop()))).toBe(url)
    expect(statuses()).toEqual([
      {
        state: 'pending',
        context: 'uni-wizard/bezalel/git_status',
        targetUrl: url,
        description: `bezalel/git_status queued (job ${job.jobId})`,
      },
    ])
    await end(job.jobId, 'success')
    await until(() => statuses().length === 2)
    expect(statuses()[1]).toEqual({
      state: 'success',
      context: 'uni-wizard/bezalel/git_status',
      targetUrl: url,
      description: `bezalel/git_status succeeded (job ${job.jobId})`,
    })
    // Gitea's combined view of the head is what branch protection reads.
    const combined = running.double.statusesOf(repo, headSha).at(-1)
    expect(combined?.state).toBe('success')
    expect(await ackUrl()).toBe(url) // edited in place, never a second comment
  })

  it('failure at the end sets `failure`', async () => {
    const { effects, job } = request('pull')
    await new Executor({ port, jobs, ledger, log }).apply(effects)
    await end(job.jobId, 'failure')
    await until(() => statuses().length === 2)
    expect(statuses().map((s) => s.state)).toEqual(['pending', 'failure'])
  })

  it('a job from an issue sets no status', async () => {
    const { effects, job } = request('issue')
    await new Executor({ port, jobs, ledger, log }).apply(effects)
    await end(job.jobId, 'success')
    // The report ran (the comment shows the end) and no status was set anywhere.
    await until(() => running.double.requests.some((r) => r.method === 'PATCH'))
    await new Promise((r) => setTimeout(r, 100))
    expect(running.double.requests.filter((r) => r.path.includes('/statuses/'))).toEqual([])
  })

  it('applying the effects again sends no second pending; a failed status is retried without a second comment', async () => {
    const { effects, job } = request('pull')
    const executor = new Executor({ port, jobs, ledger, log })
    await executor.apply(effects)
    await executor.apply(effects)
    expect(statuses().map((s) => s.state)).toEqual(['pending'])
    running.double.faults.set({ status: 500, count: 2, match: { method: 'POST', path: /\/statuses\// } })
    await end(job.jobId, 'success')
    await until(() => statuses().length === 2)
    await new Promise((r) => setTimeout(r, 200))
    expect(statuses().map((s) => s.state)).toEqual(['pending', 'success'])
    const comments = await port.listComments(repo, pull.number)
    expect(comments).toHaveLength(1)
    expect(comments[0]?.body).toContain('success')
  })

  it('two handlers of one event at once send its pending status once', async () => {
    // A router that took the event over while the first still runs it: both apply the same
    // effects; the first is slow to reach Gitea, so the second would have read no mark yet.
    const { effects } = request('pull')
    let first = true
    port.before = async () => {
      if (!first) return
      first = false
      await new Promise((r) => setTimeout(r, 300))
    }
    const two = [new Executor({ port, jobs, ledger, log }), new Executor({ port, jobs, ledger, log })]
    const done = await Promise.allSettled(two.map((e) => e.apply(effects)))
    port.before = undefined
    // One may be refused its comment (the other holds it) and is retried by BullMQ: it sends nothing new.
    for (const [i, d] of done.entries()) if (d.status === 'rejected') await two[i]!.apply(effects)
    expect(statuses().map((s) => s.state)).toEqual(['pending'])
    expect(await port.listComments(repo, pull.number)).toHaveLength(1)
  })

  it('a pending that lands after the run ended is followed by the verdict again (never ends pending)', async () => {
    const { effects, job } = request('pull')
    await new Executor({ port, jobs, ledger, log }).apply(effects)
    await end(job.jobId, 'failure')
    await until(() => statuses().length === 2)
    // The retry's `pending` is on its way when the run ends (and its final status is set first).
    port.before = async (_sha, status) => {
      if (status.state !== 'pending') return
      port.before = undefined
      const rec = await store.getRecord(job.jobId)
      await store.transition(job.jobId, [], { state: 'success', finishedAt: new Date().toISOString() })
      await store.setResult(rec!.runId, result('success'))
    }
    await jobs.retry(job.jobId, 'alice', 'r1', 2)
    await until(() => statuses().length === 4)
    expect(statuses().map((s) => s.state)).toEqual(['pending', 'failure', 'pending', 'success'])
  })

  it('force-pushed after the comment: the verdict goes on the commit the job ran on', async () => {
    const { effects, job } = request('pull')
    await new Executor({ port, jobs, ledger, log }).apply(effects)
    const moved = running.double.seedCommits(repo, { 'b.txt': 'b\n' }, 'More', { branch: 'feature' })
    await store.transition(job.jobId, [], { commit: moved })
    await end(job.jobId, 'success')
    await until(() => statuses(moved).length === 1 && statuses().length === 2)
    expect(statuses(moved).map((s) => s.state)).toEqual(['success'])
    expect(statuses().map((s) => s.state)).toEqual(['pending', 'error'])
    expect(statuses()[1]?.description).toContain('head moved')
  })

  it('a record without its ack id (the write lost in a failover) still gets its verdict: the reporter finds the bot ack by its marker', async () => {
    const { job } = request('pull')
    const marker = keyMarker(job.ackCommentKey)
    // Someone predicted the key and wrote its marker first: not the bot's, so never edited.
    const planted = running.double.createComment(repo, pull.number, {
      author: 'alice',
      body: `mine\n\n${marker}`,
    })
    const ack = await port.createComment(repo, pull.number, `⏳ queued\n\n${marker}`)
    // The ledger knows only that a post was started; the record has no ack id.
    await redis.set(`${prefix}:ledger:${job.ackCommentKey}`, 'pending')
    await jobs.enqueue({ ...job, ackCommentId: undefined })
    await end(job.jobId, 'success')
    const body = (id: number) =>
      running.double.comments(repo, pull.number).find((c) => c.id === id)?.body ?? ''
    await until(() => body(ack.id).includes('success'))
    expect(body(planted.id)).toBe(`mine\n\n${marker}`)
    expect(await ledger.get(job.ackCommentKey)).toEqual({ state: 'posted', commentId: ack.id })
  })
})
