// The whole bot loop under load: a command comment's webhook -> ingress -> router -> house worker ->
// reporter -> the final edit of the ack comment, against the Gitea double over HTTP and a real
// redis-server. Same run baseline: raw BullMQ enqueue -> process latency on the same Redis.
// Duration per round: UW_BENCH_E2E_SECONDS (default 10); rate: UW_BENCH_E2E_RATE (default 20/s).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Queue, Worker } from 'bullmq'
import { stringify } from 'yaml'
import { loadConfig } from '../../src/config/index.js'
import { startServices, type RunningServices } from '../../src/daemon/start-services.js'
import { StoredResult } from '../../src/daemon/stored-result.js'
import { startGiteaDouble, type RunningGiteaDouble } from '../../src/gitea/double/index.js'
import { GiteaJsAdapter } from '../../src/gitea/gitea-js-adapter.js'
import type { GiteaPort, RepoRef } from '../../src/gitea/port.js'
import { createLogger } from '../../src/logger.js'
import { createRedis } from '../../src/queue/connection.js'
import { freePort, startRedisServer } from '../../src/queue/redis-server.js'
import type { Round, Scenario } from '../scenario.js'

const SECRET = 'bench-e2e-secret'
const COMMAND = '/run file_read path=README.md @allegro'
const FINAL = /<!-- uni-wizard:ack job=(\S+) state=(success|failure|unverified|denied|cancelled|timeout) -->/
const KEY = /<!-- uw:key=c:[^:]+:(\d+):ack_0 -->/

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

/** A Gitea port that notes when the final edit of each command's ack comment was accepted. */
function timingPort(inner: GiteaPort, finals: Map<number, { at: number; jobId: string }>): GiteaPort {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown
      if (prop !== 'editComment' || typeof value !== 'function') return value
      return async (repo: RepoRef, id: number, body: string) => {
        const result = await (value as GiteaPort['editComment']).call(target, repo, id, body)
        const final = FINAL.exec(body)
        const key = KEY.exec(body)
        if (final && key) finals.set(Number(key[1]), { at: performance.now(), jobId: final[1]! })
        return result
      }
    },
  })
}

interface World {
  gitea: RunningGiteaDouble
  services: RunningServices
  repo: RepoRef
  issue: number
  finals: Map<number, { at: number; jobId: string }>
  stop(): Promise<void>
}

async function startWorld(dir: string, redisUrl: string): Promise<World> {
  const workspace = join(dir, 'ws')
  const keys = join(dir, 'keys')
  rmSync(workspace, { recursive: true, force: true })
  writeFileSync(join(dir, 'README.md'), '# bench\n')
  const configFile = join(dir, 'uw.yaml')
  writeFileSync(
    configFile,
    stringify({
      houses: { allegro: { workspaceRoots: [dir], concurrency: 8 } },
      keys: { dir: keys },
      commands: {
        rateLimit: {
          perUser: { limit: 100_000, windowSeconds: 60 },
          perIssue: { limit: 100_000, windowSeconds: 60 },
        },
      },
    }),
  )
  const gitea = await startGiteaDouble({ port: 0, strict: false })
  const d = gitea.double
  const bot = d.createUser({ login: 'uni-wizard' })
  d.createUser({ login: 'olive' })
  d.createUser({ login: 'wren' })
  const repo = d.createRepo({ owner: 'olive', name: 'bench' })
  d.addCollaborator(repo, 'uni-wizard', 'admin')
  d.addCollaborator(repo, 'wren', 'write')
  const issue = d.createIssue(repo, { title: 'bench', author: 'wren' }).number
  const config = loadConfig({
    WEBHOOK_SECRET: SECRET,
    GITEA_URL: gitea.url,
    GITEA_TOKEN: bot.token,
    BOT_LOGIN: 'uni-wizard',
    REDIS_URL: redisUrl,
    HOST: '127.0.0.1',
    PORT: String(await freePort()),
    UW_CONFIG: configFile,
    UW_DATA_DIR: dir,
  })
  const finals = new Map<number, { at: number; jobId: string }>()
  const port = timingPort(new GiteaJsAdapter({ baseUrl: gitea.url, token: bot.token }), finals)
  const services = await startServices(config, createLogger({ level: 'silent' }), {
    resolveBotLogin: async () => 'uni-wizard',
    checkGitea: async () => undefined,
    port,
    pieces: { ingress: true, router: true, reporter: true, workers: ['allegro'] },
  })
  d.addHook(repo, { url: `${services.httpUrl}/webhooks/gitea`, secret: SECRET, contentType: 'json' })
  return {
    gitea,
    services,
    repo,
    issue,
    finals,
    async stop() {
      await services.stop()
      await gitea.stop()
    },
  }
}

interface RoundNumbers {
  e2e: number[]
  e2eExclTool: number[]
  tool: number[]
  raw: number[]
  lost: number
}

async function measure(world: World, redisUrl: string, seconds: number, rate: number): Promise<RoundNumbers> {
  const connection = createRedis(redisUrl, 'worker')
  const raw: number[] = []
  const rawQueue = new Queue('bench-raw', { connection })
  const rawWorker = new Worker(
    'bench-raw',
    async (job) => void raw.push(performance.now() - (job.data as { t: number }).t),
    { connection, concurrency: 4 },
  )
  rawWorker.on('error', () => undefined)
  await rawWorker.waitUntilReady()
  const starts = new Map<number, number>()
  const total = Math.round(seconds * rate)
  const t0 = performance.now()
  world.finals.clear()
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate
    const wait = due - performance.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    const start = performance.now()
    // Seeding a comment makes the double deliver its signed webhook right away, like Gitea.
    const c = world.gitea.double.createComment(world.repo, world.issue, { author: 'wren', body: COMMAND })
    starts.set(c.id, start)
    void rawQueue.add('raw', { t: performance.now() }, { removeOnComplete: true })
  }
  const deadline = performance.now() + 30_000
  while (world.finals.size < total && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 50))
  const store = world.services.loop!.store
  const e2e: number[] = []
  const e2eExclTool: number[] = []
  const tool: number[] = []
  for (const [commentId, start] of starts) {
    const end = world.finals.get(commentId)
    if (!end) continue
    const rec = await store.getRecord(end.jobId)
    const stored = rec ? (await store.progress(rec.runId)).result : undefined
    const parsed = stored ? StoredResult.safeParse(JSON.parse(stored)) : undefined
    const toolMs = parsed?.success ? parsed.data.durationMs : 0
    e2e.push(end.at - start)
    e2eExclTool.push(end.at - start - toolMs)
    tool.push(toolMs)
  }
  await rawWorker.close()
  await rawQueue.obliterate({ force: true })
  await rawQueue.close()
  connection.disconnect()
  const sort = (a: number[]) => a.sort((x, y) => x - y)
  return {
    e2e: sort(e2e),
    e2eExclTool: sort(e2eExclTool),
    tool: sort(tool),
    raw: sort(raw),
    lost: total - e2e.length,
  }
}

export const e2eScenario: Scenario = {
  name: 'e2e',
  description:
    'Command comment webhook -> ingress -> router -> allegro worker (file_read, signed) -> reporter -> final ack edit, ' +
    'on the Gitea double over HTTP and a redis-server child, at a fixed rate; baseline: raw BullMQ enqueue->process.',
  async run({ rounds, progress }) {
    const seconds = Number(process.env.UW_BENCH_E2E_SECONDS ?? 10)
    const rate = Number(process.env.UW_BENCH_E2E_RATE ?? 20)
    if (!(seconds > 0 && seconds <= 600) || !(rate > 0 && rate <= 1000))
      throw new Error('UW_BENCH_E2E_SECONDS must be in (0, 600] and UW_BENCH_E2E_RATE in (0, 1000]')
    const dir = mkdtempSync(join(tmpdir(), 'uw-bench-e2e-'))
    const redis = await startRedisServer({ dir: join(dir, 'redis') })
    const world = await startWorld(dir, redis.url)
    const out: Round[] = []
    const extra = { totalP50: [] as number[], totalP99: [] as number[], toolP50: [] as number[], lost: 0 }
    try {
      await measure(world, redis.url, 2, rate) // warm-up: JIT, Lua scripts, keys
      for (let i = 0; i < rounds; i++) {
        const n = await measure(world, redis.url, seconds, rate)
        out.push({
          subject: { p50: quantile(n.e2eExclTool, 0.5), p99: quantile(n.e2eExclTool, 0.99) },
          baseline: { p50: quantile(n.raw, 0.5), p99: quantile(n.raw, 0.99) },
        })
        extra.totalP50.push(quantile(n.e2e, 0.5))
        extra.totalP99.push(quantile(n.e2e, 0.99))
        extra.toolP50.push(quantile(n.tool, 0.5))
        extra.lost += n.lost
        progress(
          `  round ${i + 1}/${rounds}: ${n.e2e.length} commands; e2e excl. tool p50 ${quantile(n.e2eExclTool, 0.5).toFixed(1)} ms, ` +
            `p99 ${quantile(n.e2eExclTool, 0.99).toFixed(1)} ms; incl. tool p50 ${quantile(n.e2e, 0.5).toFixed(1)} ms; ` +
            `tool p50 ${quantile(n.tool, 0.5).toFixed(2)} ms; raw BullMQ p50 ${quantile(n.raw, 0.5).toFixed(2)} ms, ` +
            `p99 ${quantile(n.raw, 0.99).toFixed(2)} ms${n.lost > 0 ? `; ${n.lost} without a final edit in 30 s` : ''}`,
        )
      }
    } finally {
      await world.stop()
      await redis.stop()
      rmSync(dir, { recursive: true, force: true })
    }
    const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] ?? Number.NaN
    return {
      subject: 'webhook -> final ack edit, minus the tool run time (durationMs)',
      baseline: 'raw BullMQ add -> processor start, same Redis, same run',
      metrics: [
        { key: 'p50', label: 'p50 latency', unit: 'ms', better: 'lower' },
        { key: 'p99', label: 'p99 latency', unit: 'ms', better: 'lower' },
      ],
      rounds: out,
      targets: [
        { metric: 'p50', kind: 'max', value: 15, description: 'e2e p50 < 15 ms excluding tool time' },
        { metric: 'p99', kind: 'max', value: 50, description: 'e2e p99 < 50 ms excluding tool time' },
      ],
      settings: {
        ratePerSecond: rate,
        secondsPerRound: seconds,
        command: COMMAND,
        e2eInclToolP50Ms: Number(med(extra.totalP50).toFixed(2)),
        e2eInclToolP99Ms: Number(med(extra.totalP99).toFixed(2)),
        toolP50Ms: Number(med(extra.toolP50).toFixed(3)),
        commandsWithoutFinalEdit: extra.lost,
        redis: 'redis-server child, AOF everysec, loopback',
        gitea: 'Gitea double over HTTP (loopback), contract checks off',
      },
    }
  },
}
