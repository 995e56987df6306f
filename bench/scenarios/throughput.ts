// No-op tool jobs per second through one house worker (BullJobs records + startHouseWorker +
// Harness, signed, reports queued), against a bare BullMQ Worker with an empty processor draining
// the same number of no-op jobs on the same Redis, same concurrency, in the same round.
// Standalone: npx tsx bench/scenarios/throughput.ts
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Queue, Worker } from 'bullmq'
import { pino } from 'pino'
import { BullJobs } from '../../src/jobs/bull-jobs.js'
import { DaemonConfig } from '../../src/config/daemon-config.js'
import type { JobRequest } from '../../src/effects/effects.js'
import { startHouseWorker } from '../../src/workers/house-worker.js'
import { RedisJobStore } from '../../src/jobs/job-store.js'
import { Harness } from '../../src/harness/harness.js'
import { createRedis } from '../../src/queue/connection.js'
import { houseQueueName } from '../../src/queue/queue-names.js'
import { startRedisServer } from '../../src/queue/redis-server.js'
import { noopTool as noop } from '../lib/noop-tool.js'
import type { Round, Scenario, ScenarioResult } from '../scenario.js'

const JOBS = Number(process.env.UW_BENCH_THROUGHPUT_JOBS ?? 2000)
/** The house worker's concurrency, and the bare worker's: the houses config default. */
const CONCURRENCY = Number(process.env.UW_BENCH_THROUGHPUT_CONCURRENCY ?? 2)
const HOUSE = 'allegro'
const log = pino({ level: 'silent' })

function request(round: number, i: number): JobRequest {
  const jobId = `t${round}-${i}`
  return {
    jobId,
    house: HOUSE,
    tool: 'noop',
    args: {},
    mode: 'SIMPLE',
    dryRun: false,
    requester: { login: 'wren', id: 2 },
    origin: {
      deliveryId: `d-${jobId}`,
      repo: { owner: 'o', name: 'r' },
      issue: 1,
      commentId: 10,
      commentUrl: 'http://gitea/o/r/issues/1#issuecomment-10',
      command: '/run noop',
    },
    approval: { required: false, approvers: [], ttlSeconds: 3600 },
    ackCommentKey: `c:d-${jobId}:10:ack_0`,
  }
}

async function drained(queue: Queue, n: number): Promise<void> {
  for (;;) {
    const c = await queue.getJobCounts('completed', 'failed')
    if ((c.failed ?? 0) > 0) throw new Error(`${c.failed} jobs failed in ${queue.name}`)
    if ((c.completed ?? 0) >= n) return
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** Jobs per second: the house worker drains N queued no-op tool jobs (records, harness, reports). */
export async function subjectRound(redisUrl: string, dir: string, round: number): Promise<number> {
  const prefix = `{bt${round}s}`
  const connection = createRedis(redisUrl, 'worker')
  const store = new RedisJobStore(connection, prefix)
  const jobs = new BullJobs({ connection, prefix, store, houses: [HOUSE], log })
  const config = { houses: { [HOUSE]: { workspaceRoots: [dir], sovereigns: ['sage'], mode: 'simple' } } }
  const harness = new Harness({
    house: HOUSE,
    config: config as never,
    tools: [noop],
    redis: connection,
    redisPrefix: prefix,
    keyDir: join(dir, 'keys'),
    log,
    sign: true,
  })
  for (let i = 0; i < JOBS; i++) await jobs.enqueue({ ...request(round, i), ackCommentId: 1 })
  const queue = new Queue(houseQueueName(HOUSE), { connection, prefix })
  const t0 = performance.now()
  const worker = await startHouseWorker({
    house: HOUSE,
    connection,
    prefix,
    store,
    jobs,
    harness,
    tools: [noop],
    concurrency: CONCURRENCY,
    settings: DaemonConfig.parse({}).workers,
    log,
  })
  await drained(queue, JOBS)
  const seconds = (performance.now() - t0) / 1000
  await worker.close(0)
  const done = (await store.getRecord(`t${round}-${JOBS - 1}`))?.state
  if (done !== 'success') throw new Error(`last job ended ${done}`)
  await queue.obliterate({ force: true })
  await queue.close()
  await jobs.close()
  await harness.close()
  connection.disconnect()
  return JOBS / seconds
}

/** Jobs per second: a bare BullMQ Worker with an empty processor drains N queued jobs. */
export async function baselineRound(redisUrl: string, round: number): Promise<number> {
  const prefix = `{bt${round}b}`
  const connection = createRedis(redisUrl, 'worker')
  const queue = new Queue('raw', { connection, prefix })
  for (let i = 0; i < JOBS; i += 500)
    await queue.addBulk(
      Array.from({ length: Math.min(500, JOBS - i) }, (_, k) => ({
        name: 'noop',
        data: { jobId: `t${round}-${i + k}` },
        opts: { jobId: `t${round}-${i + k}` },
      })),
    )
  const t0 = performance.now()
  const worker = new Worker('raw', async () => undefined, { connection, prefix, concurrency: CONCURRENCY })
  await drained(queue, JOBS)
  const seconds = (performance.now() - t0) / 1000
  await worker.close()
  await queue.obliterate({ force: true })
  await queue.close()
  connection.disconnect()
  return JOBS / seconds
}

async function run(options: { rounds: number; progress(line: string): void }): Promise<ScenarioResult> {
  const dir = mkdtempSync(join(tmpdir(), 'uw-bench-throughput-'))
  const redis = await startRedisServer({ dir: join(dir, 'redis') })
  try {
    await subjectRound(redis.url, dir, 0) // warm-up: JIT, Lua scripts, keys
    await baselineRound(redis.url, 0)
    const rounds: Round[] = []
    for (let i = 1; i <= options.rounds; i++) {
      const raw = await baselineRound(redis.url, i)
      const subject = await subjectRound(redis.url, dir, i)
      rounds.push({ subject: { jobsPerSecond: subject }, baseline: { jobsPerSecond: raw } })
      options.progress(
        `  round ${i}: house worker ${subject.toFixed(0)} jobs/s, raw BullMQ ${raw.toFixed(0)} jobs/s (${(subject / raw).toFixed(2)}×)`,
      )
    }
    return {
      subject: `one house worker (startHouseWorker + Harness SIMPLE, signed, job records, reports queued) draining ${JOBS} no-op tool jobs`,
      baseline: `a bare BullMQ Worker with an empty processor draining ${JOBS} jobs`,
      metrics: [{ key: 'jobsPerSecond', label: 'no-op jobs drained', unit: 'jobs/s', better: 'higher' }],
      rounds,
      targets: [
        {
          metric: 'jobsPerSecond',
          kind: 'ratio-min',
          value: 0.5,
          description: 'at least 0.5× raw BullMQ',
        },
      ],
      settings: { jobs: JOBS, concurrency: CONCURRENCY, redis: 'redis-server child, no AOF' },
    }
  } finally {
    await redis.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

export const throughputScenario: Scenario = {
  name: 'throughput',
  description:
    'No-op tool jobs per second through one house worker (records, harness, signing, reports), against a bare BullMQ worker draining no-op jobs.',
  run,
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await run({ rounds: 3, progress: (l) => process.stdout.write(`${l}\n`) })
  process.stdout.write(`${JSON.stringify(r.rounds)}\n`)
}
