// The floor of the throughput scenario: a bare BullMQ worker whose processor does only the
// durable writes an exactly-once house job cannot skip (one script moving the record to
// `running` with the started mark, one storing the result with the final state, one `add` of the
// final report), against the bare worker with an empty processor, same run, same concurrency.
// npx tsx bench/probes/throughput-floor.ts
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Queue, Worker } from 'bullmq'
import { createRedis } from '../../src/queue/connection.js'
import { LuaScript } from '../../src/queue/lua-script.js'
import { startRedisServer } from '../../src/queue/redis-server.js'

const JOBS = Number(process.env.UW_BENCH_THROUGHPUT_JOBS ?? 2000)
const CONCURRENCY = Number(process.env.UW_BENCH_THROUGHPUT_CONCURRENCY ?? 2)
const WRITE = new LuaScript(`
redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], 86400)
redis.call('HSET', KEYS[1], 'state', ARGV[3])
return redis.call('HGETALL', KEYS[1])
`)

async function round(url: string, tag: string, durable: boolean): Promise<number> {
  const prefix = `{fl${tag}}`
  const connection = createRedis(url, 'worker')
  const queue = new Queue('q', { connection, prefix })
  const reports = new Queue('reports', { connection, prefix })
  for (let i = 0; i < JOBS; i += 500)
    await queue.addBulk(
      Array.from({ length: Math.min(500, JOBS - i) }, (_, k) => ({ name: 'n', data: { id: `j${i + k}` } })),
    )
  const processor = async (job: { data: { id: string } }) => {
    if (!durable) return
    const id = job.data.id
    const keys = [`${prefix}:job:${id}`, `${prefix}:run:${id}`]
    await WRITE.run(connection, keys, ['started', '{"worker":"w"}', '"running"'])
    await WRITE.run(connection, keys, ['result', '{"status":"success"}', '"success"'])
    await reports.add('report', { jobId: id }, { jobId: `${id}.1.success`, removeOnComplete: true })
  }
  const t0 = performance.now()
  const worker = new Worker('q', processor, { connection, prefix, concurrency: CONCURRENCY })
  for (;;) {
    if (((await queue.getJobCounts('completed')).completed ?? 0) >= JOBS) break
    await new Promise((r) => setTimeout(r, 10))
  }
  const rate = JOBS / ((performance.now() - t0) / 1000)
  await worker.close()
  await queue.obliterate({ force: true })
  await reports.obliterate({ force: true })
  await queue.close()
  await reports.close()
  connection.disconnect()
  return rate
}

const dir = mkdtempSync(join(tmpdir(), 'uw-probe-floor-'))
const redis = await startRedisServer({ dir: join(dir, 'redis') })
try {
  await round(redis.url, 'w0', true)
  await round(redis.url, 'w1', false)
  for (let i = 1; i <= 3; i++) {
    const raw = await round(redis.url, `b${i}`, false)
    const floor = await round(redis.url, `f${i}`, true)
    process.stdout.write(
      `round ${i}: floor ${floor.toFixed(0)} jobs/s, raw ${raw.toFixed(0)} jobs/s (${(floor / raw).toFixed(2)}×)\n`,
    )
  }
} finally {
  await redis.stop()
  rmSync(dir, { recursive: true, force: true })
}
