import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { Secret } from '../../src/config/secret.js'
import { createDashboardApp } from '../../src/dashboard/create-dashboard-app.js'
import { DashboardConfig } from '../../src/dashboard/dashboard-config.js'
import { RedisSessions } from '../../src/dashboard/sessions.js'
import { jobIndexKey } from '../../src/jobs/job-index.js'
import { RedisJobStore, type JobRecord } from '../../src/jobs/job-store.js'
import type { JobState } from '../../src/jobs/jobs.js'
import { createRedis } from '../../src/queue/connection.js'
import { startRedisServer } from '../../src/queue/redis-server.js'
import type { Round, Scenario } from '../scenario.js'

const JOBS = 100_000
const RENDERS = 200
const WARMUP = 20
const HOUSES = ['timmy', 'ezra', 'bezalel', 'allegro']
const STATES: JobState[] = [
  'success',
  'success',
  'success',
  'failure',
  'running',
  'queued',
  'cancelled',
  'timeout',
]
const TOKEN = 'bench-dashboard-token-0123456789'
const ORIGIN = 'https://bench.example'

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN
}

function stats(ms: number[]): { p50: number; p99: number } {
  const s = [...ms].sort((a, b) => a - b)
  return { p50: quantile(s, 0.5), p99: quantile(s, 0.99) }
}

function record(i: number, now: number): JobRecord {
  const repo = { owner: `org${i % 10}`, name: `repo${i % 7}` }
  const id = `j${i.toString(16).padStart(12, '0')}`
  return {
    id,
    runId: id,
    run: 1,
    state: STATES[i % STATES.length]!,
    house: HOUSES[i % HOUSES.length]!,
    tool: i % 3 === 0 ? 'implement' : 'git_status',
    args: { path: 'src' },
    mode: 'SIMPLE',
    dryRun: false,
    requester: { login: `user${i % 50}`, id: i % 50 },
    origin: {
      deliveryId: `d-${i}`,
      repo,
      issue: 1 + (i % 300),
      commentId: 1000 + i,
      commentUrl: `https://gitea.example/${repo.owner}/${repo.name}/issues/${1 + (i % 300)}#issuecomment-${1000 + i}`,
      command: '/run git_status path=src',
    },
    approvalRequired: false,
    approvers: ['sage'],
    approvalTtlSeconds: 86400,
    digest: 'x'.repeat(64),
    ackCommentKey: `c:d-${i}:ack`,
    ackCommentId: 5000 + i,
    // One job every 10 s, newest last.
    createdAt: new Date(now - (JOBS - i) * 10_000).toISOString(),
    retryKeys: [],
  }
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - t) / 1e6
}

export const dashboardScenario: Scenario = {
  name: 'dashboard',
  description:
    `Server time of the dashboard's first jobs page (50 rows) with ${JOBS.toLocaleString('en')} job records in a real ` +
    'redis-server: session lookup, the listing index, 50 records read and parsed, the page rendered (Hono JSX), ' +
    'through app.request. Also the first page filtered by house and state (two indexes). Baseline, same run: a ' +
    'bare ZREVRANGE of 50 ids from the index.',
  async run({ rounds, progress }) {
    const dir = mkdtempSync(join(tmpdir(), 'uw-bench-dashboard-'))
    const server = await startRedisServer({ dir })
    const redis = createRedis(server.url, 'worker')
    const prefix = '{benchdash}'
    try {
      const store = new RedisJobStore(redis, prefix)
      const now = Date.now()
      progress(`creating ${JOBS} job records...`)
      const started = Date.now()
      for (let i = 0; i < JOBS; i += 1000)
        await Promise.all(Array.from({ length: 1000 }, (_, k) => store.create(record(i + k, now))))
      progress(`created in ${((Date.now() - started) / 1000).toFixed(1)} s`)
      const memory = (await redis.info('memory')).match(/used_memory:(\d+)/)?.[1]

      const config = DashboardConfig.parse({
        enabled: true,
        sessionSecret: new Secret('bench-session-secret-0123456789abcdef'),
        tokens: [{ tokenEnv: 'T', token: new Secret(TOKEN), login: 'ops', role: 'viewer' }],
      })
      const app = createDashboardApp({
        config,
        log: pino({ level: 'silent' }),
        redis,
        prefix,
        publicUrl: ORIGIN,
        sessions: new RedisSessions(redis, prefix, 3600),
        houses: HOUSES,
        store,
        actions: { control: undefined, permissionOf: undefined, sovereigns: [] },
        trustedKeys: () => [],
        connect: () => createRedis(server.url, 'worker'),
        keepaliveMs: 15_000,
      })
      // Log in once, as a browser would, and keep the cookie.
      const login = await app.request(`${ORIGIN}/dashboard/login`)
      const formCookie = login.headers.getSetCookie()[0]!.split(';')[0]!
      const csrf = /name="_csrf" value="([^"]+)"/.exec(await login.text())![1]!
      const res = await app.request(`${ORIGIN}/dashboard/login/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN, cookie: formCookie },
        body: new URLSearchParams({ _csrf: csrf, token: TOKEN }),
      })
      const cookie = res.headers
        .getSetCookie()
        .find((c) => c.startsWith('uw_dashboard='))!
        .split(';')[0]!
      const page = async (query: string) => {
        const r = await app.request(`${ORIGIN}/dashboard/jobs${query}`, { headers: { cookie } })
        const html = await r.text()
        if (r.status !== 200 || (html.match(/<tr>/g) ?? []).length !== 51)
          throw new Error(`jobs page answered ${r.status} without 50 rows`)
      }
      const all = jobIndexKey(prefix, 'all')
      for (let i = 0; i < WARMUP; i++) {
        await page('')
        await redis.zrevrange(all, 0, 49)
      }

      const results: Round[] = []
      for (let round = 0; round < rounds; round++) {
        const first: number[] = []
        const filtered: number[] = []
        const bare: number[] = []
        for (let i = 0; i < RENDERS; i++) {
          first.push(await time(() => page('')))
          filtered.push(await time(() => page('?house=ezra&state=success')))
          bare.push(await time(() => redis.zrevrange(all, 0, 49)))
        }
        const f = stats(first)
        const q = stats(filtered)
        const b = stats(bare)
        progress(
          `round ${round + 1}: first page p50 ${f.p50.toFixed(2)} ms p99 ${f.p99.toFixed(2)} ms; ` +
            `filtered p50 ${q.p50.toFixed(2)} ms; ZREVRANGE p50 ${b.p50.toFixed(3)} ms`,
        )
        results.push({
          subject: { firstP50: f.p50, firstP99: f.p99, filteredP50: q.p50, filteredP99: q.p99 },
          baseline: { firstP50: b.p50, firstP99: b.p99, filteredP50: b.p50, filteredP99: b.p99 },
        })
      }
      return {
        subject: `GET /dashboard/jobs (50 rows) with ${JOBS.toLocaleString('en')} jobs in Redis, logged in`,
        baseline: 'ZREVRANGE of 50 ids from the jobs index',
        metrics: [
          { key: 'firstP50', label: 'first jobs page p50', unit: 'ms', better: 'lower' },
          { key: 'firstP99', label: 'first jobs page p99', unit: 'ms', better: 'lower' },
          { key: 'filteredP50', label: 'filtered (house+state) p50', unit: 'ms', better: 'lower' },
          { key: 'filteredP99', label: 'filtered (house+state) p99', unit: 'ms', better: 'lower' },
        ],
        rounds: results,
        targets: [
          { metric: 'firstP50', kind: 'max', value: 100, description: 'first jobs page p50 < 100 ms' },
          { metric: 'firstP99', kind: 'max', value: 100, description: 'first jobs page p99 < 100 ms' },
        ],
        settings: {
          jobs: JOBS,
          rendersPerRound: RENDERS,
          rowsPerPage: 50,
          redisUsedMemoryBytes: Number(memory ?? 0),
        },
      }
    } finally {
      redis.disconnect()
      await server.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  },
}
