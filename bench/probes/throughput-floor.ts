// The floor of the throughput scenario: what a house job's unavoidable work costs against the raw
// BullMQ drain, same run, same concurrency. Bare BullMQ workers whose processors do only:
//   sign       an ed25519 DSSE signature of a ~0.5 KB in-toto statement, returned as the job's
//              result (BullMQ's own completion stores it: no write of ours)
//   1 write    one MULTI: the result with the record's final state, plus the final report's `add`
//              (the least an exactly-once result stored outside BullMQ needs), unsigned
//   sign + 1   both
//   3 writes   the run-started mark with the `running` state, the result with the final state and
//              the report's `add`, each its own round trip, unsigned (the pre-MULTI shape)
// npx tsx bench/probes/throughput-floor.ts
import { generateKeyPairSync, sign } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Job, Queue, Worker } from 'bullmq'
import type { Redis } from 'ioredis'
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
const { privateKey } = generateKeyPairSync('ed25519')
const STATEMENT = Buffer.from(
  JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'output', digest: { sha256: 'a'.repeat(64) } }],
    predicateType: 'https://uni-wizard.dev/provenance/v1',
    predicate: {
      requestedBy: 'wren',
      house: 'allegro',
      mode: 'SIMPLE',
      tool: 'noop',
      argsDigest: `sha256:${'b'.repeat(64)}`,
      host: 'h',
      versions: { node: process.versions.node },
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      attempts: 1,
      status: 'success',
      evidence: [],
    },
  }),
)

type Variant = 'raw' | 'sign' | '1 write' | 'sign + 1' | '3 writes'
const VARIANTS: Variant[] = ['raw', 'sign', '1 write', 'sign + 1', '3 writes']

function signed(): string {
  const type = 'application/vnd.in-toto+json'
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${STATEMENT.length} `), STATEMENT])
  const sig = sign(null, pae, privateKey).toString('base64')
  return JSON.stringify({ payloadType: type, payload: STATEMENT.toString('base64'), signatures: [{ sig }] })
}

async function round(url: string, tag: string, variant: Variant): Promise<number> {
  const prefix = `{fl${tag}}`
  const connection = createRedis(url, 'worker') as Redis
  const queue = new Queue('q', { connection, prefix })
  const reports = new Queue('reports', { connection, prefix })
  // BullMQ's client (a proxy of the connection) makes MULTIs that can carry its scripts.
  const client = (await reports.client) as unknown as Redis
  for (let i = 0; i < JOBS; i += 500)
    await queue.addBulk(
      Array.from({ length: Math.min(500, JOBS - i) }, (_, k) => ({ name: 'n', data: { id: `j${i + k}` } })),
    )
  const reportOpts = (id: string) => ({ jobId: `${id}.1.success`, removeOnComplete: true })
  const processor = async (job: { data: { id: string } }) => {
    if (variant === 'raw') return undefined
    const id = job.data.id
    const keys = [`${prefix}:job:${id}`, `${prefix}:run:${id}`]
    const result = variant === 'sign' || variant === 'sign + 1' ? signed() : '{"status":"success"}'
    if (variant === 'sign') return result
    if (variant === '3 writes') {
      await WRITE.run(connection, keys, ['started', '{"worker":"w"}', '"running"'])
      await WRITE.run(connection, keys, ['result', result, '"success"'])
      await reports.add('report', { jobId: id }, reportOpts(id))
      return undefined
    }
    const multi = client.multi()
    WRITE.addTo(multi, keys, ['result', result, '"success"'])
    const opts = reportOpts(id)
    await new Job(reports, 'report', { jobId: id }, opts, opts.jobId).addJob(multi as never)
    await multi.exec()
    return undefined
  }
  const t0 = performance.now()
  const worker = new Worker('q', processor, { connection, prefix, concurrency: CONCURRENCY })
  worker.on('failed', (_j, err) => {
    throw err
  })
  for (;;) {
    if (((await queue.getJobCounts('completed')).completed ?? 0) >= JOBS) break
    await new Promise((r) => setTimeout(r, 10))
  }
  const rate = JOBS / ((performance.now() - t0) / 1000)
  await worker.close()
  const queued = await reports.count()
  const wrote = variant !== 'raw' && variant !== 'sign'
  if (wrote && queued !== JOBS) throw new Error(`${variant}: ${queued} reports queued, expected ${JOBS}`)
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
  for (const v of VARIANTS) await round(redis.url, `w${VARIANTS.indexOf(v)}`, v) // warm-up
  for (let i = 1; i <= 3; i++) {
    const rates = new Map<Variant, number>()
    for (const v of VARIANTS) rates.set(v, await round(redis.url, `r${i}v${VARIANTS.indexOf(v)}`, v))
    const raw = rates.get('raw') ?? 1
    const cells = VARIANTS.map(
      (v) => `${v} ${(rates.get(v) ?? 0).toFixed(0)} (${((rates.get(v) ?? 0) / raw).toFixed(2)}×)`,
    )
    process.stdout.write(`round ${i}: ${cells.join(', ')}\n`)
  }
} finally {
  await redis.stop()
  rmSync(dir, { recursive: true, force: true })
}
