import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Queue } from 'bullmq'
import { afterAll, describe, expect, it } from 'vitest'
import { DaemonConfig } from '../../src/config/daemon-config.js'
import type { JobRequest } from '../../src/effects/effects.js'
import { Harness } from '../../src/harness/harness.js'
import { BullJobs } from '../../src/jobs/bull-jobs.js'
import { RedisJobStore } from '../../src/jobs/job-store.js'
import { houseQueueName } from '../../src/queue/queue-names.js'
import { sinkBacklog, telemetryStreamKey } from '../../src/telemetry/index.js'
import { dedupeById } from '../../src/telemetry/double/sink-double.js'
import { startHouseWorker } from '../../src/workers/house-worker.js'
import { echo } from '../harness/test-tools.js'
import { ForwarderRig, until } from '../telemetry/forwarder-rig.js'

const JOBS = 1000
const HOUSE = 'allegro'

function request(i: number): JobRequest {
  const jobId = `f-${i}`
  return {
    jobId,
    house: HOUSE,
    tool: 'echo',
    args: { text: `job ${i}` },
    mode: 'SIMPLE',
    dryRun: false,
    requester: { login: 'wren', id: 2 },
    origin: {
      deliveryId: `d-${jobId}`,
      repo: { owner: 'o', name: 'r' },
      issue: 1,
      commentId: 10 + i,
      commentUrl: `http://gitea/o/r/issues/1#issuecomment-${10 + i}`,
      command: '/run echo',
    },
    approval: { required: false, approvers: [], ttlSeconds: 3600 },
    ackCommentKey: `c:d-${jobId}:${10 + i}:ack_0`,
  }
}

// Issue 14 §1: "test with the sink down for a while during 1,000 jobs". Real jobs: BullJobs
// records and house queue, a house worker running them through the Harness (signed), every
// event appended by the real RedisTelemetry; two forwarders, the leader dying midway.
describe('forwarding 1,000 jobs through a sink outage (real Redis, worker, sink double over HTTP)', () => {
  const rig = new ForwarderRig()
  const dir = mkdtempSync(join(tmpdir(), 'uw-tfwd-'))
  afterAll(async () => {
    await rig.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it(
    'the sink ends with every event exactly in stream order, no gap; duplicates only as resends',
    { timeout: 180_000 },
    async () => {
      const connection = rig.connection()
      const prefix = rig.prefix
      const store = new RedisJobStore(connection, prefix)
      const jobs = new BullJobs({
        connection,
        prefix,
        store,
        houses: [HOUSE],
        log: rig.log,
        telemetry: rig.telemetry(),
      })
      const harness = new Harness({
        house: HOUSE,
        config: { houses: { [HOUSE]: { workspaceRoots: [dir], mode: 'simple' } } } as never,
        tools: [echo],
        redis: connection,
        redisPrefix: prefix,
        keyDir: join(dir, 'keys'),
        log: rig.log,
        sign: true,
      })
      const worker = await startHouseWorker({
        house: HOUSE,
        connection,
        prefix,
        store,
        jobs,
        harness,
        tools: [echo],
        concurrency: 4,
        settings: DaemonConfig.parse({}).workers,
        log: rig.log,
      })
      const sink = await rig.sink()
      const a = rig.forwarder(sink.url, { owner: 'a:1', batchSize: 100, timeoutMs: 300 })
      await until('a leads', () => (a.forwarder.leading ? true : undefined))
      const b = rig.forwarder(sink.url, { owner: 'b:2', batchSize: 100, timeoutMs: 300 })
      const outage: Record<number, () => Promise<void> | void> = {
        150: () => sink.down(), // connection refused
        350: () => sink.up(),
        400: () => sink.fault({ kind: 'status', status: 503 }),
        550: () => a.redis.disconnect(), // the leader dies without releasing: b takes over
        650: () => sink.fault({ kind: 'slow', ms: 600 }), // every POST times out
        800: () => sink.fault({ kind: 'none' }),
      }
      for (let i = 0; i < JOBS; i++) {
        await outage[i]?.()
        await jobs.enqueue({ ...request(i), ackCommentId: 1 })
        if (i % 50 === 49) await new Promise((r) => setTimeout(r, 100))
      }
      const queue = new Queue(houseQueueName(HOUSE), { connection, prefix })
      await until(
        'every job done',
        async () => ((await queue.getJobCounts('completed')).completed === JOBS ? true : undefined),
        120_000,
      )
      await worker.close(0)
      await queue.close()

      // The worker's heartbeat_lost (its clean stop) is the last event: wait until the sink has it too.
      await until(
        'the sink acknowledged everything',
        async () => ((await sinkBacklog(rig.redis, prefix)).depth === 0 ? true : undefined),
        60_000,
      )
      const ids = (await rig.redis.xrange(telemetryStreamKey(prefix), '-', '+')).map(([id]) => id)
      const { events, duplicates } = dedupeById(sink.batches)
      expect(events.map((e) => e.id)).toEqual(ids)
      expect(events.map((e) => e.n)).toEqual(ids.map((_, i) => i + 1))
      expect(sink.batches.flatMap((x) => x.gaps)).toEqual([])
      // Every job's five steps arrived: queued, started, tool started and finished, finished.
      const finished = events.filter((e) => e.type === 'job.finished')
      expect(finished).toHaveLength(JOBS)
      expect(events.filter((e) => e.type === 'job.queued')).toHaveLength(JOBS)
      expect(new Set(rig.errors)).toEqual(new Set(['network', 'server', 'timeout']))
      expect(b.forwarder.leading).toBe(true)
      expect(new Set(sink.batches.map((x) => x.fence))).toEqual(new Set([1, 2]))
      // Resends (a POST that timed out after the sink kept it; the batch the dying leader sent
      // unacknowledged) are whole batches: never more duplicates than failed or unacknowledged POSTs carried.
      expect(duplicates).toBeLessThanOrEqual(100 * (rig.errors.length + 1))
      await jobs.close()
      await harness.close()
    },
  )
})
