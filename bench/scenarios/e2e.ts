// The whole bot loop under load: a command comment's webhook -> ingress -> router -> house worker ->
// reporter -> the final edit of the ack comment, against the Gitea double over HTTP and a real
// redis-server. Same run baseline: raw BullMQ enqueue -> process latency on the same Redis.
// Duration per round: UW_BENCH_E2E_SECONDS (default 10); rate: UW_BENCH_E2E_RATE (default 20/s).
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Queue, Worker } from 'bullmq'
import { stringify } from 'yaml'
import { loadConfig } from '../../src/config/index.js'
import { startServices, type RunningServices } from '../../src/daemon/start-services.js'
import { StoredResult } from '../../src/jobs/stored-result.js'
import { startGiteaDouble, type RunningGiteaDouble } from '../../src/gitea/double/index.js'
import { GiteaJsAdapter } from '../../src/gitea/gitea-js-adapter.js'
import type { GiteaPort, RepoRef } from '../../src/gitea/port.js'
import { HOP_CHANNEL, type HopMark } from '../../src/hop-trace.js'
import { createLogger } from '../../src/logger.js'
import { createRedis } from '../../src/queue/connection.js'
import { freePort, startRedisServer } from '../../src/queue/redis-server.js'
import { startStallProbe, type StallReport } from '../lib/stall-probe.js'
import type { ExtraTable, Round, Scenario } from '../scenario.js'

const SECRET = 'bench-e2e-secret'
const COMMAND = '/run file_read path=README.md @allegro'
const FINAL = /<!-- uni-wizard:ack job=(\S+) state=(success|failure|unverified|denied|cancelled|timeout) -->/
const KEY = /<!-- uw:key=c:[^:]+:(\d+):ack_0 -->/

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

/** A Gitea port that notes when each command's ack comment was posted and its final edit accepted. */
function timingPort(
  inner: GiteaPort,
  finals: Map<number, { at: number; jobId: string }>,
  acks: Map<number, number>,
): GiteaPort {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown
      if (prop === 'createComment' && typeof value === 'function')
        return async (repo: RepoRef, issue: number, body: string) => {
          const result = await (value as GiteaPort['createComment']).call(target, repo, issue, body)
          const key = KEY.exec(body)
          if (key) acks.set(Number(key[1]), performance.now())
          return result
        }
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

export interface World {
  gitea: RunningGiteaDouble
  services: RunningServices
  repo: RepoRef
  issue: number
  finals: Map<number, { at: number; jobId: string }>
  acks: Map<number, number>
  stop(): Promise<void>
}

/** The bot in one process on the Gitea double; `extra` is merged into its YAML config (the telemetry bench turns telemetry off). */
export async function startWorld(
  dir: string,
  redisUrl: string,
  extra: Record<string, unknown> = {},
): Promise<World> {
  // The workspace must not contain the signing keys (the daemon refuses to start otherwise).
  const workspace = join(dir, 'ws')
  const keys = join(dir, 'keys')
  rmSync(workspace, { recursive: true, force: true })
  mkdirSync(workspace, { recursive: true })
  writeFileSync(join(workspace, 'README.md'), '# bench\n')
  const configFile = join(dir, 'uw.yaml')
  writeFileSync(
    configFile,
    stringify({
      houses: { allegro: { workspaceRoots: [workspace], concurrency: 8 } },
      keys: { dir: keys },
      commands: {
        rateLimit: {
          perUser: { limit: 100_000, windowSeconds: 60 },
          perIssue: { limit: 100_000, windowSeconds: 60 },
        },
      },
      ...extra,
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
    // Beside the workspace, not around it (a workspace root inside the data directory is refused).
    UW_DATA_DIR: join(dir, 'data'),
  })
  const finals = new Map<number, { at: number; jobId: string }>()
  const acks = new Map<number, number>()
  const port = timingPort(new GiteaJsAdapter({ baseUrl: gitea.url, token: bot.token }), finals, acks)
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
    acks,
    async stop() {
      await services.stop()
      await gitea.stop()
    },
  }
}

/** The hops of one command, in order: a name and the two marks it lies between. */
const HOPS: { name: string; from: string; to: string }[] = [
  { name: 'webhook sent -> 202 (double + ingress)', from: 'start', to: 'ingress.accepted' },
  { name: '202 -> router picked (events queue)', from: 'ingress.accepted', to: 'router.picked' },
  { name: 'router picked -> ack comment posted', from: 'router.picked', to: 'ack' },
  { name: 'ack posted -> job enqueued', from: 'ack', to: 'executor.enqueued' },
  { name: 'enqueued -> worker picked (house queue)', from: 'executor.enqueued', to: 'worker.picked' },
  { name: 'worker picked -> tool start', from: 'worker.picked', to: 'worker.toolStart' },
  { name: 'tool (harness.execute)', from: 'worker.toolStart', to: 'worker.toolEnd' },
  { name: 'tool end -> final report queued', from: 'worker.toolEnd', to: 'worker.reported' },
  { name: 'report queued -> reporter picked (reports queue)', from: 'worker.reported', to: 'reporter.final' },
  { name: 'reporter picked -> final edit accepted', from: 'reporter.final', to: 'final' },
]

export interface RoundNumbers {
  e2e: number[]
  e2eExclTool: number[]
  tool: number[]
  raw: number[]
  /** Per hop name, the duration of every command that has both marks. */
  hops: Map<string, number[]>
  /** Event-loop delay of this process during the round (ms): p99 and max. */
  loopDelayP99: number
  loopDelayMax: number
  /** GC pauses during the round: total and longest (ms). */
  gcTotal: number
  gcMax: number
  /** Event-loop stalls (> 20 ms) here and in an idle sibling process, and the ones both saw. */
  stalls: StallReport
  /** CPU time of this process (user + system) per command, ms: load-independent cost. */
  cpuPerCommand: number
  /** Commands Redis processed per command (the raw baseline's few included). */
  redisPerCommand: number
  lost: number
}

export async function measure(
  world: World,
  redisUrl: string,
  seconds: number,
  rate: number,
): Promise<RoundNumbers> {
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
  // Marks by delivery id, from the loop's `uni-wizard:hop` channel. The reporter's pick is kept
  // only for the report of the final state (the queued/running ones are other reports).
  const marks = new Map<string, Map<string, number>>()
  const onMark = (message: unknown) => {
    const m = message as HopMark
    let byHop = marks.get(m.deliveryId)
    if (!byHop) marks.set(m.deliveryId, (byHop = new Map()))
    const name =
      m.hop === 'reporter.picked'
        ? m.detail === 'success' || m.detail === 'failure'
          ? 'reporter.final'
          : ''
        : m.hop
    if (name && !byHop.has(name)) byHop.set(name, m.at)
  }
  subscribe(HOP_CHANNEL, onMark)
  const loopDelay = monitorEventLoopDelay({ resolution: 1 })
  loopDelay.enable()
  const gc: number[] = []
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gc.push(e.duration)
  })
  gcObserver.observe({ entryTypes: ['gc'] })
  const probe = await startStallProbe()
  const redisCalls = async () =>
    Number(/total_commands_processed:(\d+)/.exec(await connection.info('stats'))?.[1])
  const redisBefore = await redisCalls()
  const cpuBefore = process.cpuUsage()

  const starts = new Map<number, { at: number; deliveryId: string }>()
  const total = Math.round(seconds * rate)
  const t0 = performance.now()
  world.finals.clear()
  world.acks.clear()
  // The double logs every request and delivery with its body; over a run that is tens of MB of
  // test-double heap in this process, which the bot's GC would pay for.
  world.gitea.double.requests.length = 0
  world.gitea.double.deliveries.length = 0
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate
    const wait = due - performance.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    const start = performance.now()
    // Seeding a comment makes the double deliver its signed webhook right away, like Gitea.
    const c = world.gitea.double.createComment(world.repo, world.issue, { author: 'wren', body: COMMAND })
    const deliveries = world.gitea.double.deliveries
    starts.set(c.id, { at: start, deliveryId: deliveries.at(-1)?.id ?? '' })
    if (deliveries.length > 100) deliveries.splice(0, deliveries.length - 1)
    if (world.gitea.double.requests.length > 100) world.gitea.double.requests.length = 0
    void rawQueue.add('raw', { t: performance.now() }, { removeOnComplete: true })
  }
  const deadline = performance.now() + 30_000
  while (world.finals.size < total && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 50))
  loopDelay.disable()
  gcObserver.disconnect()
  const cpu = process.cpuUsage(cpuBefore)
  const redisAfter = await redisCalls()
  const stalls = await probe.stop()
  unsubscribe(HOP_CHANNEL, onMark)
  const store = world.services.loop!.store
  const e2e: number[] = []
  const e2eExclTool: number[] = []
  const tool: number[] = []
  const hops = new Map<string, number[]>(HOPS.map((h) => [h.name, []]))
  for (const [commentId, { at: start, deliveryId }] of starts) {
    const end = world.finals.get(commentId)
    if (!end) continue
    const rec = await store.getRecord(end.jobId)
    const stored = rec ? (await store.progress(rec.runId)).result : undefined
    const parsed = stored ? StoredResult.safeParse(JSON.parse(stored)) : undefined
    const toolMs = parsed?.success ? parsed.data.durationMs : 0
    e2e.push(end.at - start)
    e2eExclTool.push(end.at - start - toolMs)
    tool.push(toolMs)
    const at = new Map(marks.get(deliveryId))
    at.set('start', start)
    const ack = world.acks.get(commentId)
    if (ack !== undefined) at.set('ack', ack)
    at.set('final', end.at)
    for (const h of HOPS) {
      const from = at.get(h.from)
      const to = at.get(h.to)
      if (from !== undefined && to !== undefined) hops.get(h.name)!.push(to - from)
    }
  }
  await rawWorker.close()
  await rawQueue.obliterate({ force: true })
  await rawQueue.close()
  connection.disconnect()
  const sort = (a: number[]) => a.sort((x, y) => x - y)
  for (const v of hops.values()) sort(v)
  return {
    e2e: sort(e2e),
    e2eExclTool: sort(e2eExclTool),
    tool: sort(tool),
    raw: sort(raw),
    hops,
    loopDelayP99: loopDelay.percentile(99) / 1e6,
    loopDelayMax: loopDelay.max / 1e6,
    gcTotal: gc.reduce((a, b) => a + b, 0),
    gcMax: Math.max(0, ...gc),
    stalls,
    cpuPerCommand: (cpu.user + cpu.system) / 1000 / total,
    redisPerCommand: (redisAfter - redisBefore) / total,
    lost: total - e2e.length,
  }
}

function stallLine(s: StallReport): string {
  const sum = (a: { ms: number }[]) => a.reduce((t, x) => t + x.ms, 0).toFixed(0)
  const max = (a: { ms: number }[]) => Math.max(0, ...a.map((x) => x.ms)).toFixed(0)
  return (
    `here ${s.here.length} (${sum(s.here)} ms, longest ${max(s.here)}), idle sibling process ${s.sibling.length} ` +
    `(${sum(s.sibling)} ms, longest ${max(s.sibling)}), both at once ${s.shared.length}`
  )
}

/** The per-hop table: p50, p99 and max of each hop over every command of every round. */
function hopTable(rounds: RoundNumbers[]): ExtraTable {
  const rows = HOPS.map((h) => {
    const all = rounds.flatMap((r) => r.hops.get(h.name) ?? []).sort((a, b) => a - b)
    return [h.name, quantile(all, 0.5), quantile(all, 0.99), all[all.length - 1] ?? Number.NaN, all.length]
  })
  const all = rounds.flatMap((r) => r.e2e).sort((a, b) => a - b)
  rows.push([
    'whole command (incl. tool)',
    quantile(all, 0.5),
    quantile(all, 0.99),
    all[all.length - 1]!,
    all.length,
  ])
  return {
    title: 'Where the time goes: per hop, all rounds pooled (ms)',
    header: ['hop', 'p50', 'p99', 'max', 'samples'],
    rows,
  }
}

export const e2eScenario: Scenario = {
  name: 'e2e',
  description:
    'Command comment webhook -> ingress -> router -> allegro worker (file_read, signed) -> reporter -> final ack edit, ' +
    "on the Gitea double over HTTP (contract checks off: the cost of validating the test double is not the bot's) and " +
    'a redis-server child, at a fixed rate, everything in one process; baseline: raw BullMQ enqueue->process.',
  async run({ rounds, progress }) {
    const seconds = Number(process.env.UW_BENCH_E2E_SECONDS ?? 30)
    const rate = Number(process.env.UW_BENCH_E2E_RATE ?? 20)
    if (!(seconds > 0 && seconds <= 600) || !(rate > 0 && rate <= 1000))
      throw new Error('UW_BENCH_E2E_SECONDS must be in (0, 600] and UW_BENCH_E2E_RATE in (0, 1000]')
    const dir = mkdtempSync(join(tmpdir(), 'uw-bench-e2e-'))
    const redis = await startRedisServer({ dir: join(dir, 'redis') })
    const world = await startWorld(dir, redis.url)
    const out: Round[] = []
    const measured: RoundNumbers[] = []
    const extra = { totalP50: [] as number[], totalP99: [] as number[], toolP50: [] as number[], lost: 0 }
    try {
      await measure(world, redis.url, 2, rate) // warm-up: JIT, Lua scripts, keys
      for (let i = 0; i < rounds; i++) {
        const n = await measure(world, redis.url, seconds, rate)
        measured.push(n)
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
            `p99 ${quantile(n.raw, 0.99).toFixed(2)} ms; event-loop delay p99 ${n.loopDelayP99.toFixed(1)} ms, ` +
            `max ${n.loopDelayMax.toFixed(1)} ms; GC total ${n.gcTotal.toFixed(0)} ms, longest ${n.gcMax.toFixed(1)} ms; ` +
            `stalls > 20 ms: ${stallLine(n.stalls)}; CPU ${n.cpuPerCommand.toFixed(2)} ms and ` +
            `${n.redisPerCommand.toFixed(1)} Redis commands per command` +
            `${n.lost > 0 ? `; ${n.lost} without a final edit in 30 s` : ''}`,
        )
      }
    } finally {
      await world.stop()
      await redis.stop()
      rmSync(dir, { recursive: true, force: true })
    }
    const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] ?? Number.NaN
    const round2 = (n: number) => Number(n.toFixed(2))
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
        e2eInclToolP50Ms: round2(med(extra.totalP50)),
        e2eInclToolP99Ms: round2(med(extra.totalP99)),
        toolP50Ms: Number(med(extra.toolP50).toFixed(3)),
        commandsWithoutFinalEdit: extra.lost,
        eventLoopDelayP99Ms: round2(med(measured.map((m) => m.loopDelayP99))),
        eventLoopDelayMaxMs: round2(med(measured.map((m) => m.loopDelayMax))),
        gcLongestPauseMs: round2(med(measured.map((m) => m.gcMax))),
        cpuMsPerCommand: round2(med(measured.map((m) => m.cpuPerCommand))),
        redisCommandsPerCommand: round2(med(measured.map((m) => m.redisPerCommand))),
        stallsHere: measured.map((m) => m.stalls.here.length).join('/'),
        stallsIdleSibling: measured.map((m) => m.stalls.sibling.length).join('/'),
        stallsShared: measured.map((m) => m.stalls.shared.length).join('/'),
        redis: 'redis-server child, AOF everysec, loopback',
        gitea: 'Gitea double over HTTP (loopback), contract checks off',
      },
      tables: [hopTable(measured)],
    }
  },
}
