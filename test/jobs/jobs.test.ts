import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { BullJobs, jobDigest } from '../../src/jobs/bull-jobs.js'
import { DaemonConfig } from '../../src/config/daemon-config.js'
import { RedisEffectLedger } from '../../src/effects/effect-ledger.js'
import { Executor } from '../../src/effects/executor.js'
import type { JobRequest } from '../../src/effects/effects.js'
import { liveness } from '../../src/workers/heartbeat.js'
import { startHouseWorker, type RunningHouseWorker } from '../../src/workers/house-worker.js'
import { RedisJobStore } from '../../src/jobs/job-store.js'
import { routerApprovalSigner } from '../../src/router/router-approvals.js'
import { KeyStore } from '../../src/provenance/key-store.js'
import { plainResult } from '../../src/jobs/stored-result.js'
import { Harness } from '../../src/harness/harness.js'
import { CheckoutError } from '../../src/checkouts/checkout-error.js'
import type { CheckoutManager } from '../../src/checkouts/checkout-manager.js'
import { houseQueueName, REPORTS_QUEUE } from '../../src/queue/queue-names.js'
import { startRedisServer, type RedisServerHandle } from '../../src/queue/redis-server.js'
import { customTool } from '../../src/tools/custom/custom-tool.js'
import { slashCommands } from '../../handlers/slash-commands.js'
import type { JobRecord } from '../../src/jobs/job-store.js'
import { commentEvent, world } from '../commands/helpers/world.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

const log = pino({ level: 'silent' })
const tools = [
  customTool({
    name: 'snooze',
    description: 'sleeps',
    command: ['sleep', '{seconds}'],
    args: { seconds: { type: 'string', pattern: '\\d+' } },
    access: 'read',
  }),
  customTool({
    name: 'scribble',
    description: 'creates a file',
    command: ['touch', '{name}'],
    args: { name: { type: 'string', pattern: '[a-z]+' } },
    access: 'write',
  }),
  customTool({ name: 'flop', description: 'always fails', command: ['false'], access: 'read' }),
]

function request(jobId: string, tool: string, args: Record<string, string>, approval = false): JobRequest {
  return {
    jobId,
    house: 'bezalel',
    tool,
    args,
    mode: 'SIMPLE',
    dryRun: false,
    requester: { login: 'wren', id: 2 },
    origin: {
      deliveryId: `d-${jobId}`,
      repo: { owner: 'o', name: 'r' },
      issue: 1,
      commentId: 10,
      commentUrl: 'http://gitea/o/r/issues/1#issuecomment-10',
      command: `/run ${tool}`,
    },
    approval: { required: approval, approvers: ['sage'], ttlSeconds: 3600 },
    ackCommentKey: `c:d-${jobId}:10:ack_0`,
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await probe()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('jobs over BullMQ with a real house worker', () => {
  let dir: string
  let prefix: string
  let redis: Redis
  let store: RedisJobStore
  let jobs: BullJobs
  let harness: Harness
  let worker: RunningHouseWorker | undefined
  const settings = DaemonConfig.parse({
    workers: { lockDurationMs: 1000, stalledIntervalMs: 500, heartbeatMs: 200, shutdownGraceMs: 500 },
  }).workers

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'uw-jobs-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  beforeEach(async () => {
    prefix = uniquePrefix()
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null })
    store = new RedisJobStore(redis, prefix)
    harness = new Harness({
      house: 'bezalel',
      config: {
        houses: {
          bezalel: {
            workspaceRoots: [dir],
            sovereigns: ['sage'],
            approvalRequired: 'writes',
            mode: 'simple',
          },
        },
      },
      tools,
      redis,
      redisPrefix: prefix,
      keyDir: join(dir, 'keys'),
      sign: true,
    })
    jobs = new BullJobs({
      connection: redis,
      prefix,
      store,
      houses: ['bezalel'],
      log,
      // The router's signer: its own key in the shared test key dir, which the worker trusts.
      signApproval: routerApprovalSigner({ keys: new KeyStore(join(dir, 'keys')), tools, log }),
    })
  })
  afterEach(async () => {
    await worker?.close(0)
    worker = undefined
    await jobs.close()
    redis.disconnect()
    await cleanupPrefix(prefix)
  })

  const startWorker = async (runningReportDelayMs = settings.runningReportDelayMs) => {
    worker = await startHouseWorker({
      house: 'bezalel',
      connection: redis,
      prefix,
      store,
      jobs,
      harness,
      tools,
      concurrency: 2,
      settings: { ...settings, runningReportDelayMs },
      log,
      workerId: 'w1',
    })
    return worker
  }
  const state = async (id: string) => (await store.getRecord(id))?.state
  const finalState = (id: string) =>
    until(`job ${id} final`, async () => {
      const s = await state(id)
      return s && !['queued', 'running', 'awaiting_approval'].includes(s) ? s : undefined
    })
  const reportIds = async () =>
    (await new Queue(REPORTS_QUEUE, { connection: redis, prefix }).getJobs(['waiting', 'delayed'])).map(
      (j) => j.id,
    )

  // A checkout the disk cannot hold yet (CheckoutError 'disk-full', transient) delays the job, it
  // does not lose it: BullMQ retries it with backoff, and only when every attempt failed does the
  // job end, as a failure that says why (and `/retry` can run it again).
  describe('a transient checkout failure', () => {
    const clone = () => {
      const path = mkdtempSync(join(dir, 'clone-'))
      const git = (...args: string[]) =>
        execFileSync('git', ['-C', path, ...args], {
          env: {
            ...process.env,
            GIT_AUTHOR_NAME: 't',
            GIT_AUTHOR_EMAIL: 't@t',
            GIT_COMMITTER_NAME: 't',
            GIT_COMMITTER_EMAIL: 't@t',
          },
        })
      git('init', '-q', '-b', 'main')
      writeFileSync(join(path, 'a.txt'), 'a\n')
      git('add', 'a.txt')
      git('commit', '-q', '-m', 'a')
      git('update-ref', 'refs/remotes/origin/main', 'HEAD')
      return {
        path,
        commit: execFileSync('git', ['-C', path, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim(),
      }
    }
    const diskFullFor = (failures: number) => {
      let calls = 0
      const checkouts = {
        calls: () => calls,
        async prepare() {
          calls++
          if (calls <= failures) throw new CheckoutError('disk-full', 'the checkout disk is full: 3 MiB free')
          const co = clone()
          return { ...co, repoKey: 'o/r', release: async () => undefined }
        },
        async sweep() {},
        gitOrigin: (url: string) => ({ url }),
      }
      return checkouts as typeof checkouts & CheckoutManager
    }
    const inCheckout = (jobId: string): JobRequest => ({
      ...request(jobId, 'snooze', { seconds: '0' }),
      checkout: { cloneUrl: 'http://gitea/o/r.git', target: { kind: 'default', branch: 'main' } },
    })
    const startWith = async (checkouts: CheckoutManager) => {
      worker = await startHouseWorker({
        house: 'bezalel',
        connection: redis,
        prefix,
        store,
        jobs,
        harness,
        tools,
        concurrency: 1,
        settings,
        log,
        workerId: 'w1',
        checkouts,
      })
    }

    it('is retried until the checkout can be made, then the job runs once and succeeds', async () => {
      const checkouts = diskFullFor(2)
      await jobs.enqueue({ ...inCheckout('jd'), ackCommentId: 5 })
      await startWith(checkouts)
      expect(
        await until(
          'job jd final',
          async () => {
            const s = await state('jd')
            return s && !['queued', 'running'].includes(s) ? s : undefined
          },
          15_000,
        ),
      ).toBe('success')
      expect(checkouts.calls()).toBe(3)
      expect((await store.getRecord('jd'))?.commit).toMatch(/^[0-9a-f]{40}$/)
    }, 20_000)

    it('ends the job as a failure saying why once every attempt failed; nothing is dropped', async () => {
      await jobs.close()
      jobs = new BullJobs({ connection: redis, prefix, store, houses: ['bezalel'], log, houseAttempts: 2 })
      const checkouts = diskFullFor(Number.POSITIVE_INFINITY)
      await jobs.enqueue({ ...inCheckout('je'), ackCommentId: 5 })
      await startWith(checkouts)
      expect(await finalState('je')).toBe('failure')
      expect(checkouts.calls()).toBe(2)
      const rec = await store.getRecord('je')
      const result = JSON.parse((await store.progress(rec!.runId)).result ?? '{}') as {
        error?: { rule: string; reason: string }
      }
      expect(result.error).toMatchObject({ rule: 'worker-failure' })
      expect(result.error?.reason).toContain('the checkout disk is full')
    }, 20_000)
  })

  it('enqueue is idempotent: one record, one BullMQ job', async () => {
    await jobs.enqueue({ ...request('ja', 'snooze', { seconds: '1' }), ackCommentId: 5 })
    await jobs.enqueue({ ...request('ja', 'snooze', { seconds: '1' }), ackCommentId: 5 })
    const q = new Queue(houseQueueName('bezalel'), { connection: redis, prefix })
    expect((await q.getJobCounts('waiting')).waiting).toBe(1)
    expect((await q.getJob('ja'))?.name).toBe('snooze')
    expect(await store.listForIssue({ owner: 'o', name: 'r' }, 1)).toHaveLength(1)
    expect((await store.get('ja'))?.digest).toBe(jobDigest(request('ja', 'snooze', { seconds: '1' })))
    await q.close()
  })

  it.each([
    ['a fast run, with the default delay, gets no running report', '0', '1000', false],
    ['a fast run gets one when the delay is 0', '0', '0', true],
    ['a run longer than the delay gets one', '1', '200', true],
  ])('%s', async (_, seconds, delay, expected) => {
    await jobs.enqueue({ ...request('jr', 'snooze', { seconds }), ackCommentId: 5 })
    await startWorker(Number(delay))
    expect(await finalState('jr')).toBe('success')
    await new Promise((r) => setTimeout(r, 50))
    const ids = await reportIds()
    expect(ids).toContain('jr.1.success')
    expect(ids.includes('jr.1.running')).toBe(expected)
  })

  it('cancelling a queued job removes it and ends it cancelled; the worker never runs it', async () => {
    await jobs.enqueue({ ...request('jb', 'scribble', { name: 'never' }), ackCommentId: 5 })
    await jobs.cancel('jb', 'wren', undefined)
    expect(await state('jb')).toBe('cancelled')
    expect((await store.getRecord('jb'))?.reason).toBe('cancelled by @wren')
    await startWorker()
    await new Promise((r) => setTimeout(r, 200))
    expect(existsSync(join(dir, 'never'))).toBe(false)
    expect(await reportIds()).toContain('jb.1.cancelled')
  })

  it('cancelling a running job aborts its tool process through the worker', async () => {
    await startWorker()
    await jobs.enqueue({ ...request('jc', 'snooze', { seconds: '30' }), ackCommentId: 5 })
    await until('running', async () => ((await state('jc')) === 'running' ? true : undefined))
    const t0 = Date.now()
    await jobs.cancel('jc', 'sage', 'too slow')
    expect(await finalState('jc')).toBe('cancelled')
    expect(Date.now() - t0).toBeLessThan(5000)
    expect((await store.getRecord('jc'))?.reason).toBe('cancelled by @sage')
  })

  it('/retry starts a new run of a failed job once per retry key', async () => {
    await startWorker()
    await jobs.enqueue({ ...request('jd', 'flop', {}), ackCommentId: 5 })
    expect(await finalState('jd')).toBe('failure')
    await jobs.retry('jd', 'wren', 'jk1')
    await jobs.retry('jd', 'wren', 'jk1')
    const rec = await store.getRecord('jd')
    expect(rec).toMatchObject({ run: 2, runId: 'jd.jk1', retryKeys: ['jk1'] })
    expect(await finalState('jd')).toBe('failure')
    expect((await store.progress('jd.jk1')).result).toBeDefined()
    // A job that is not final cannot be retried.
    await jobs.enqueue({ ...request('je', 'snooze', { seconds: '30' }), ackCommentId: 5 })
    await jobs.retry('je', 'wren', 'jk2')
    expect((await store.getRecord('je'))?.run).toBe(1)
  })

  it('approval: a wrong digest is ignored; the right one queues a run the harness accepts', async () => {
    await startWorker()
    await jobs.enqueue({ ...request('jf', 'scribble', { name: 'approved' }, true), ackCommentId: 5 })
    expect(await state('jf')).toBe('awaiting_approval')
    expect(await reportIds()).toContain('jf.1.expire')
    await jobs.approve('jf', 'sage', 'sha256:0000')
    expect(await state('jf')).toBe('awaiting_approval')
    const digest = (await store.get('jf'))!.digest
    await jobs.approve('jf', 'sage', digest)
    expect(await finalState('jf')).toBe('success')
    expect(existsSync(join(dir, 'approved'))).toBe(true)
  })

  it('an expired approval request is denied instead of approved; /deny ends a request denied', async () => {
    let now = Date.now()
    const clocked = new BullJobs({
      connection: redis,
      prefix,
      store,
      houses: ['bezalel'],
      log,
      now: () => now,
    })
    await clocked.enqueue({ ...request('jg', 'scribble', { name: 'late' }, true), ackCommentId: 5 })
    now += 3601 * 1000
    await clocked.approve('jg', 'sage', (await store.get('jg'))!.digest)
    expect(await state('jg')).toBe('denied')
    expect((await store.getRecord('jg'))?.reason).toContain('expired')
    await clocked.enqueue({ ...request('jh', 'scribble', { name: 'no' }, true), ackCommentId: 5 })
    await clocked.deny('jh', 'sage', 'not now')
    expect(await store.getRecord('jh')).toMatchObject({ state: 'denied', reason: 'denied by @sage: not now' })
    await clocked.close()
  })

  it('a re-delivered write that was started but never finished is not run again', async () => {
    await jobs.enqueue({ ...request('ji', 'scribble', { name: 'twice' }), ackCommentId: 5 })
    // What a worker killed mid-write leaves behind: the run marked started, no result.
    await store.transition('ji', ['queued'], { state: 'running', startedAt: new Date().toISOString() })
    await store.markStarted('ji', 'dead-worker', new Date().toISOString())
    await startWorker()
    expect(await finalState('ji')).toBe('failure')
    expect(existsSync(join(dir, 'twice'))).toBe(false)
    const result = JSON.parse((await store.progress('ji')).result!) as {
      error: { rule: string; reason: string }
    }
    expect(result.error.rule).toBe('interrupted')
    expect(result.error.reason).toContain('dead-worker')
  })

  it('a re-delivered run with a stored result reports it instead of running again', async () => {
    await jobs.enqueue({ ...request('jj', 'scribble', { name: 'stored' }), ackCommentId: 5 })
    await store.markStarted('jj', 'dead-worker', new Date().toISOString())
    await store.setResult('jj', JSON.stringify(plainResult('success', 'done before the crash')))
    await startWorker()
    expect(await finalState('jj')).toBe('success')
    expect(existsSync(join(dir, 'stored'))).toBe(false)
  })

  it('a re-delivered run already final but never reported queues its final report (no comment stuck on running)', async () => {
    await jobs.enqueue({ ...request('jk', 'scribble', { name: 'final' }), ackCommentId: 5 })
    // What a crash between the final transition and queueing the report leaves behind.
    await store.setResult('jk', JSON.stringify(plainResult('success', 'done')))
    await store.transition('jk', ['queued'], { state: 'success', finishedAt: new Date().toISOString() })
    expect((await reportIds()).filter((id) => id?.startsWith('jk.') && id.endsWith('.success'))).toHaveLength(
      0,
    )
    await startWorker()
    await until('final report queued', async () =>
      (await reportIds()).some((id) => id?.startsWith('jk.') && id.endsWith('.success')) ? true : undefined,
    )
    expect(await state('jk')).toBe('success')
    expect(existsSync(join(dir, 'final'))).toBe(false)
  })

  it('a dry run ends success saying what would run, runs nothing and marks nothing started', async () => {
    await jobs.enqueue({ ...request('jdry', 'scribble', { name: 'dry' }), dryRun: true, ackCommentId: 5 })
    await startWorker()
    expect(await finalState('jdry')).toBe('success')
    expect(existsSync(join(dir, 'dry'))).toBe(false)
    const progress = await store.progress('jdry')
    expect(progress.started).toBeUndefined()
    expect((JSON.parse(progress.result!) as { output: string }).output).toContain(
      'dry run: scribble was not run. House bezalel would run it with {"name":"dry"}',
    )
  })

  it('a cancel request that arrived before the worker started the tool ends it cancelled, unrun', async () => {
    await jobs.enqueue({ ...request('jcx', 'scribble', { name: 'cancelled' }), ackCommentId: 5 })
    await store.transition('jcx', ['queued'], { state: 'running', cancelRequestedBy: 'wren' })
    await startWorker()
    expect(await finalState('jcx')).toBe('cancelled')
    expect(existsSync(join(dir, 'cancelled'))).toBe(false)
    expect((await store.getRecord('jcx'))?.reason).toBe('cancelled by @wren')
  })

  it("a BullMQ job named after another tool runs its record's tool, the long way", async () => {
    await jobs.enqueue({ ...request('jname', 'snooze', { seconds: '0' }), ackCommentId: 5 })
    const q = new Queue(houseQueueName('bezalel'), { connection: redis, prefix })
    await q.remove('jname')
    await q.add('scribble', { jobId: 'jname', runId: 'jname' }, { jobId: 'jname' })
    await q.close()
    await startWorker()
    expect(await finalState('jname')).toBe('success')
    const progress = await store.progress('jname')
    expect(progress.started?.worker).toBe('w1')
    expect(
      (JSON.parse(progress.result!) as { statement: { predicate: { tool: string } } }).statement.predicate
        .tool,
    ).toBe('snooze')
  })

  it('bad job data fails the job as unrecoverable without running anything', async () => {
    await startWorker()
    const q = new Queue(houseQueueName('bezalel'), { connection: redis, prefix })
    await q.add('scribble', { nonsense: true }, { jobId: 'bad', attempts: 5 })
    const failed = await until('failed', async () => (await q.getJob('bad'))?.failedReason || undefined)
    expect(failed).toContain('bad job data')
    expect((await q.getJob('bad'))?.attemptsMade).toBe(1)
    await q.close()
  })

  it('a worker keeps a heartbeat while it runs and removes it when it stops', async () => {
    const w = await startWorker()
    expect(await liveness(redis, prefix, 'bezalel')).toMatchObject({ alive: true, workers: 1 })
    await w.close(0)
    worker = undefined
    const after = await liveness(redis, prefix, 'bezalel')
    expect(after).toMatchObject({ alive: false, workers: 0 })
    expect(after.lastSeen).toBeDefined()
  })

  describe('a router retry after a crash between the record and the house queue', () => {
    /** The command handled as the router does: handler, then executor; true when every effect applied. */
    const route = async (w: ReturnType<typeof world>, body: string, login: string) => {
      const event = commentEvent(body, { author: { login, id: 3 } })
      const executor = new Executor({
        port: w.port,
        jobs,
        ledger: new RedisEffectLedger(redis, prefix),
        log,
        labelCatalogue: false,
      })
      return executor.apply(await slashCommands.handle(event, w.ctx(event))).then(
        () => true,
        () => false,
      )
    }
    /** The next `addRun` fails, as if the router died right after updating the record. */
    const crashOnce = () => {
      const real = jobs.addRun.bind(jobs)
      let crashed = false
      jobs.addRun = async (rec: JobRecord) => {
        if (crashed) return real(rec)
        crashed = true
        throw new Error('crash before the house queue')
      }
    }
    const replies = (w: ReturnType<typeof world>, text: string) =>
      w.port.comments.filter((c) => c.body.includes(text)).length

    it('/approve: the retried command queues the approved job and replies once', async () => {
      await startWorker()
      const w = world({ jobsView: jobs, sovereigns: ['sage'] })
      await jobs.enqueue({ ...request('jk', 'scribble', { name: 'repaired' }, true), ackCommentId: 5 })
      crashOnce()
      expect(await route(w, '/approve jk', 'sage')).toBe(false)
      expect(await store.getRecord('jk')).toMatchObject({ state: 'queued', approvedBy: { by: 'sage' } })
      expect(await route(w, '/approve jk', 'sage')).toBe(true)
      expect(await finalState('jk')).toBe('success')
      expect(existsSync(join(dir, 'repaired'))).toBe(true)
      expect(replies(w, 'Approved job `jk`')).toBe(1)
      expect(replies(w, 'not awaiting approval')).toBe(0)
    })

    it('/retry: the retried command queues the new run and replies once', async () => {
      await startWorker()
      const w = world({ jobsView: jobs })
      await jobs.enqueue({ ...request('jl', 'flop', {}), ackCommentId: 5 })
      expect(await finalState('jl')).toBe('failure')
      crashOnce()
      expect(await route(w, '/retry jl', 'wendy')).toBe(false)
      expect(await store.getRecord('jl')).toMatchObject({ state: 'queued', run: 2 })
      expect(await route(w, '/retry jl', 'wendy')).toBe(true)
      const runId = (await store.getRecord('jl'))!.runId
      expect(runId).toMatch(/^jl\.j[0-9a-f]{12}$/)
      await until('run 2 result', async () => (await store.progress(runId)).result)
      expect(await finalState('jl')).toBe('failure')
      expect(replies(w, 'Retrying job `jl`')).toBe(1)
      expect(replies(w, 'can be retried')).toBe(0)
    })

    it('/retry of a denied (expired) request asks for approval again', async () => {
      const w = world({ jobsView: jobs })
      await jobs.enqueue({ ...request('jm', 'scribble', { name: 'later' }, true), ackCommentId: 5 })
      await jobs.deny('jm', 'sage', undefined)
      expect(await route(w, '/retry jm', 'wendy')).toBe(true)
      expect(await store.getRecord('jm')).toMatchObject({ state: 'awaiting_approval', run: 2 })
      expect(await reportIds()).toContain('jm.2.expire')
    })
  })
})

describe('RedisJobStore.transition', () => {
  const prefix = uniquePrefix()
  let redis: Redis
  let store: RedisJobStore
  let jobs: BullJobs
  beforeAll(async () => {
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null })
    store = new RedisJobStore(redis, prefix)
    jobs = new BullJobs({ connection: redis, prefix, store, houses: ['bezalel'], log })
    await jobs.enqueue({ ...request('jt', 'scribble', { name: 'x' }), houseReason: 'named', ackCommentId: 5 })
    expect(await store.getRecord('jt')).toHaveProperty('houseReason', 'named')
  })
  afterAll(async () => {
    await jobs.close()
    await cleanupPrefix(prefix)
    redis.disconnect()
  })

  it.each([
    ['a state it is not in', 'jt', ['running' as const], { state: 'success' as const }, undefined],
    ['an unknown job', 'nope', [], { state: 'success' as const }, undefined],
    [
      'its current state (answers with the record as stored)',
      'jt',
      ['queued' as const],
      { state: 'running' as const, startedAt: '2026-01-01T00:00:00.000Z', houseReason: null },
      { id: 'jt', state: 'running', startedAt: '2026-01-01T00:00:00.000Z' },
    ],
  ])('from %s', async (_, id, from, patch, expected) => {
    const after = await store.transition(id, from, patch)
    if (expected === undefined) expect(after).toBeUndefined()
    else {
      expect(after).toMatchObject({ ...expected, tool: 'scribble', retryKeys: [] })
      expect(after).toEqual(await store.getRecord(id))
      expect(after).not.toHaveProperty('houseReason') // null deletes the field
    }
  })
})

describe('RedisJobStore.startRun and endRun (transition plus run progress in one script)', () => {
  const prefix = uniquePrefix()
  let redis: Redis
  let store: RedisJobStore
  let jobs: BullJobs
  const at = '2026-01-01T00:00:00.000Z'
  beforeAll(async () => {
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null })
    store = new RedisJobStore(redis, prefix)
    jobs = new BullJobs({ connection: redis, prefix, store, houses: ['bezalel'], log })
    for (const id of ['sa', 'sb', 'ea', 'eb'])
      await jobs.enqueue({ ...request(id, 'scribble', { name: 'x' }), ackCommentId: 5 })
  })
  afterAll(async () => {
    await jobs.close()
    await cleanupPrefix(prefix)
    redis.disconnect()
  })

  it('startRun moves the record and marks the run started by the worker, with a lifetime', async () => {
    const rec = await store.startRun(
      'sa',
      ['queued'],
      { state: 'running', startedAt: at },
      { runId: 'sa', worker: 'w1', at },
    )
    expect(rec).toMatchObject({ id: 'sa', state: 'running', startedAt: at })
    expect((await store.progress('sa')).started).toEqual({ worker: 'w1', at })
    expect(await redis.ttl(`${prefix}:run:sa`)).toBeGreaterThan(0)
  })

  it('startRun from a state the job is not in changes nothing and marks nothing', async () => {
    await store.transition('sb', ['queued'], { state: 'cancelled' })
    const rec = await store.startRun(
      'sb',
      ['queued', 'running'],
      { state: 'running' },
      { runId: 'sb', worker: 'w1', at },
    )
    expect(rec).toBeUndefined()
    expect(await store.progress('sb')).toEqual({ started: undefined, result: undefined })
    expect((await store.getRecord('sb'))?.state).toBe('cancelled')
  })

  it('startRun keeps the first worker that started a run', async () => {
    await store.startRun('sa', ['running'], { state: 'running' }, { runId: 'sa', worker: 'w2', at })
    expect((await store.progress('sa')).started?.worker).toBe('w1')
  })

  it('endRun stores the result and ends the record; a second endRun keeps the first result', async () => {
    await store.transition('ea', ['queued'], { state: 'running' })
    const rec = await store.endRun(
      'ea',
      ['running'],
      { state: 'success', finishedAt: at },
      { runId: 'ea', result: 'first' },
    )
    expect(rec).toMatchObject({ state: 'success', finishedAt: at })
    const again = await store.endRun(
      'ea',
      ['running'],
      { state: 'failure' },
      { runId: 'ea', result: 'second' },
    )
    expect(again).toBeUndefined()
    expect((await store.progress('ea')).result).toBe('first')
    expect((await store.getRecord('ea'))?.state).toBe('success')
  })

  it('endRun stores the result even when the transition does not apply (unknown or ended job)', async () => {
    await store.transition('eb', ['queued'], { state: 'cancelled' })
    expect(
      await store.endRun('eb', ['running'], { state: 'success' }, { runId: 'eb', result: 'r' }),
    ).toBeUndefined()
    expect((await store.progress('eb')).result).toBe('r')
    expect(
      await store.endRun('nope', [], { state: 'success' }, { runId: 'nope', result: 'r2' }),
    ).toBeUndefined()
    expect((await store.progress('nope')).result).toBe('r2')
  })
})

describe('RedisJobStore.pickUp (read and, usually, start a run in one script)', () => {
  const prefix = uniquePrefix()
  let redis: Redis
  let store: RedisJobStore
  let jobs: BullJobs
  const at = '2026-01-01T00:00:00.000Z'
  const take = (
    id: string,
    over: Partial<{ runId: string; tool: string; house: string; write: boolean }> = {},
  ) =>
    store.pickUp(id, {
      runId: id,
      tool: 'scribble',
      house: 'bezalel',
      write: true,
      worker: 'w1',
      at,
      ...over,
    })
  beforeAll(async () => {
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null })
    store = new RedisJobStore(redis, prefix)
    jobs = new BullJobs({ connection: redis, prefix, store, houses: ['bezalel'], log })
    for (const id of ['pa', 'pb', 'pc', 'pd', 'pe', 'pf', 'pg', 'ph', 'pi'])
      await jobs.enqueue({ ...request(id, 'scribble', { name: 'x' }), ackCommentId: 5 })
  })
  afterAll(async () => {
    await jobs.close()
    await cleanupPrefix(prefix)
    redis.disconnect()
  })

  it('starts a queued run: record running with startedAt, run marked by the worker, with a lifetime', async () => {
    const p = await take('pa')
    expect(p.started).toBe(true)
    expect(p.record).toMatchObject({ id: 'pa', state: 'running', startedAt: at })
    expect(p.progress).toEqual({ started: undefined, result: undefined }) // as it was before
    expect(await store.getRecord('pa')).toEqual(p.record)
    expect((await store.progress('pa')).started).toEqual({ worker: 'w1', at })
    expect(await redis.ttl(`${prefix}:run:pa`)).toBeGreaterThan(0)
  })

  it('a read started before is started again (the first mark kept); a write is not', async () => {
    const read = await store.pickUp('pa', {
      runId: 'pa',
      tool: 'scribble',
      house: 'bezalel',
      write: false,
      worker: 'w2',
      at,
    })
    expect(read.started).toBe(true)
    expect(read.progress.started).toEqual({ worker: 'w1', at })
    expect((await store.progress('pa')).started?.worker).toBe('w1')
    const write = await store.pickUp('pa', {
      runId: 'pa',
      tool: 'scribble',
      house: 'bezalel',
      write: true,
      worker: 'w2',
      at,
    })
    expect(write.started).toBe(false)
    expect(write.progress.started).toEqual({ worker: 'w1', at })
  })

  it('a run moved to a backup house starts only on a worker of that house (moveRun fences it)', async () => {
    const moved = await store.moveRun('pi', 'pi', {
      to: 'ezra',
      from: 'bezalel',
      reason: 'backup of bezalel',
      mode: 'INTELLIGENT',
    })
    expect(moved).toMatchObject({
      state: 'queued',
      house: 'ezra',
      failoverFrom: 'bezalel',
      mode: 'INTELLIGENT',
    })
    expect((await take('pi')).started).toBe(false) // bezalel's worker, too late
    expect((await store.progress('pi')).started).toBeUndefined()
    expect((await take('pi', { house: 'ezra' })).started).toBe(true)
    // A run that started (or ended, or was retried) is not moved.
    expect(await store.moveRun('pi', 'pi', { to: 'allegro', from: 'ezra', reason: 'x' })).toBeUndefined()
    expect(await store.moveRun('pb', 'pb.k1', { to: 'ezra', from: 'bezalel', reason: 'x' })).toBeUndefined()
    expect((await store.getRecord('pi'))?.house).toBe('ezra')
  })

  it('changes nothing for a stale run, another tool, an ended, cancelled, dry or finished run, or no record', async () => {
    await store.transition('pc', ['queued'], { state: 'success' })
    await store.transition('pd', ['queued'], { state: 'running', cancelRequestedBy: 'wren' })
    await store.transition('pe', ['queued'], { dryRun: true })
    await store.setResult('pf', '{"status":"success"}')
    const cases = [
      await take('pb', { runId: 'pb.k1' }),
      await take('pg', { tool: 'snooze' }),
      await take('pc'),
      await take('pd'),
      await take('pe'),
      await take('pf'),
    ]
    for (const p of cases) expect(p.started).toBe(false)
    expect(cases.map((p) => p.record?.state)).toEqual([
      'queued',
      'queued',
      'success',
      'running',
      'queued',
      'queued',
    ])
    expect(cases[5]?.progress.result).toBe('{"status":"success"}')
    for (const id of ['pb', 'pc', 'pd', 'pe', 'pg'])
      expect((await store.progress(id)).started).toBeUndefined()
    const none = await take('nope')
    expect(none).toEqual({
      started: false,
      record: undefined,
      progress: { started: undefined, result: undefined },
    })
  })
})

describe('BullJobs.moveRun (a queued run to the backup house, exactly once, finished after a crash)', () => {
  const prefix = uniquePrefix()
  let redis: Redis
  let store: RedisJobStore
  let jobs: BullJobs
  const queue = (house: string) => new Queue(`house-${house}`, { connection: redis, prefix })
  beforeAll(async () => {
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null })
    store = new RedisJobStore(redis, prefix)
    jobs = new BullJobs({ connection: redis, prefix, store, houses: ['bezalel', 'ezra'], log })
    for (const id of ['ma', 'mb', 'mc'])
      await jobs.enqueue({ ...request(id, 'scribble', { name: 'x' }), ackCommentId: 5 })
  })
  afterAll(async () => {
    await jobs.close()
    await cleanupPrefix(prefix)
    redis.disconnect()
  })

  it('moves the run: record, queues and a report of the move; repeating it adds nothing', async () => {
    const waiting = await jobs.waitingRuns('bezalel')
    expect(waiting.map((w) => w.data.jobId)).toEqual(['ma', 'mb', 'mc'])
    const move = { from: 'bezalel', to: 'ezra', reason: 'backup of bezalel' }
    const moved = await jobs.moveRun(waiting[0]!.data, move)
    expect(moved).toMatchObject({
      id: 'ma',
      house: 'ezra',
      failoverFrom: 'bezalel',
      houseReason: 'backup of bezalel',
    })
    expect(await jobs.moveRun(waiting[0]!.data, move)).toMatchObject({ house: 'ezra' })
    expect((await queue('ezra').getWaiting()).map((j) => j.id)).toEqual(['ma'])
    expect((await jobs.waitingRuns('bezalel')).map((w) => w.data.jobId)).toEqual(['mb', 'mc'])
    const reports = new Queue('reports', { connection: redis, prefix })
    expect(await reports.getJob('ma.1.moved.ezra')).toBeDefined()
    await reports.close()
  })

  it('finishes a move cut short after the record changed (a crash), and never moves a started run', async () => {
    const [mb, mc] = await jobs.waitingRuns('bezalel')
    await store.moveRun('mb', 'mb', { from: 'bezalel', to: 'ezra', reason: 'r' }) // then "crashed"
    expect((await queue('ezra').getWaiting()).map((j) => j.id)).toEqual(['ma'])
    expect(await jobs.moveRun(mb!.data, { from: 'bezalel', to: 'ezra', reason: 'r' })).toMatchObject({
      house: 'ezra',
    })
    expect((await queue('ezra').getWaiting()).map((j) => j.id).sort()).toEqual(['ma', 'mb'])
    await store.transition('mc', ['queued'], { state: 'running' })
    expect(await jobs.moveRun(mc!.data, { from: 'bezalel', to: 'ezra', reason: 'r' })).toBeUndefined()
    expect((await store.getRecord('mc'))?.house).toBe('bezalel')
  })
})

describe('BullJobs.endRun (result, final state and its report in one MULTI)', () => {
  const prefix = uniquePrefix()
  let redis: Redis
  let store: RedisJobStore
  let jobs: BullJobs
  let reports: Queue
  beforeAll(async () => {
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null })
    store = new RedisJobStore(redis, prefix)
    jobs = new BullJobs({ connection: redis, prefix, store, houses: ['bezalel'], log })
    reports = new Queue(REPORTS_QUEUE, { connection: redis, prefix })
    for (const id of ['xa', 'xb'])
      await jobs.enqueue({ ...request(id, 'scribble', { name: 'x' }), ackCommentId: 5 })
  })
  afterAll(async () => {
    await reports.close()
    await jobs.close()
    await cleanupPrefix(prefix)
    redis.disconnect()
  })

  it('stores the result, ends the record and queues the report of that state, keyed by run and state', async () => {
    await store.transition('xa', ['queued'], { state: 'running' })
    const ended = await jobs.endRun(
      { id: 'xa', run: 1, runId: 'xa' },
      { state: 'success', finishedAt: 'f' },
      'r1',
    )
    expect(ended).toMatchObject({ id: 'xa', state: 'success', finishedAt: 'f' })
    expect((await store.progress('xa')).result).toBe('r1')
    const report = await reports.getJob('xa.1.success')
    expect(report?.data).toEqual({ jobId: 'xa', kind: 'state', run: 1, state: 'success' })
    // The same options as every other report (BullJobs.report), so both paths dedupe by id.
    expect(report?.opts).toMatchObject({
      attempts: 200,
      backoff: { type: 'capped' },
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 30 * 24 * 3600 },
    })
  })

  it('a repeat keeps the first result and state, and queues no second report', async () => {
    const again = await jobs.endRun({ id: 'xa', run: 1, runId: 'xa' }, { state: 'success' }, 'r2')
    expect(again).toBeUndefined()
    expect((await store.progress('xa')).result).toBe('r1')
    expect((await reports.getJobs(['waiting'])).filter((j) => j.id === 'xa.1.success')).toHaveLength(1)
  })

  it('a record already elsewhere is left alone; its result is kept and the queued report is for a state it is not in', async () => {
    await store.transition('xb', ['queued'], { state: 'cancelled' })
    expect(await jobs.endRun({ id: 'xb', run: 1, runId: 'xb' }, { state: 'success' }, 'rb')).toBeUndefined()
    expect((await store.getRecord('xb'))?.state).toBe('cancelled')
    expect((await store.progress('xb')).result).toBe('rb')
    expect((await reports.getJob('xb.1.success'))?.data.state).toBe('success') // skipped as superseded
  })

  it('a late worker of an earlier run does not end the retried run', async () => {
    await jobs.enqueue({ ...request('xc', 'scribble', { name: 'x' }), ackCommentId: 5 })
    await store.transition('xc', ['queued'], { state: 'success' })
    await jobs.retry('xc', 'wren', 'k1') // run 2, queued
    const late = await jobs.endRun({ id: 'xc', run: 1, runId: 'xc' }, { state: 'failure' }, 'late')
    expect(late).toBeUndefined()
    expect(await store.getRecord('xc')).toMatchObject({ run: 2, runId: 'xc.k1', state: 'queued' })
    expect((await store.progress('xc')).result).toBe('late') // kept under run 1 only
    expect((await store.progress('xc.k1')).result).toBeUndefined()
  })
})

describe('BullJobs.endRun after Redis lost its scripts (SCRIPT FLUSH; Redis 7.4+ evicts them too)', () => {
  let dir: string
  let server: RedisServerHandle
  let redis: Redis
  let store: RedisJobStore
  let jobs: BullJobs
  let reports: Queue
  beforeAll(async () => {
    // Its own redis-server: a SCRIPT FLUSH must not reach other test files.
    dir = mkdtempSync(join(tmpdir(), 'uw-noscript-'))
    server = await startRedisServer({ dir, appendOnly: false })
    redis = new Redis(server.url, { maxRetriesPerRequest: null })
    store = new RedisJobStore(redis, '{ns}')
    jobs = new BullJobs({ connection: redis, prefix: '{ns}', store, houses: ['bezalel'], log })
    reports = new Queue(REPORTS_QUEUE, { connection: redis, prefix: '{ns}' })
    for (const id of ['na', 'nb'])
      await jobs.enqueue({ ...request(id, 'scribble', { name: 'x' }), ackCommentId: 5 })
  })
  afterAll(async () => {
    await reports.close()
    await jobs.close()
    redis.disconnect()
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('still ends the run and queues its report, every time', async () => {
    await store.transition('na', ['queued'], { state: 'running' })
    await store.transition('nb', ['queued'], { state: 'running' })
    expect(await jobs.endRun({ id: 'na', run: 1, runId: 'na' }, { state: 'success' }, 'ra')).toBeDefined()
    await redis.script('FLUSH')
    const ended = await jobs.endRun({ id: 'nb', run: 1, runId: 'nb' }, { state: 'failure' }, 'rb')
    expect(ended).toMatchObject({ id: 'nb', state: 'failure' })
    expect((await store.progress('nb')).result).toBe('rb')
    expect((await reports.getJob('nb.1.failure'))?.data).toEqual({
      jobId: 'nb',
      kind: 'state',
      run: 1,
      state: 'failure',
    })
  })
})
