import { createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'bullmq'
import { Registry } from 'prom-client'
import { loadCatalogue } from '../../labels/catalogue.js'
import { triageNewIssue } from '../../handlers/triage-new-issue.js'
import { syncLabels } from '../../src/cli/labels.js'
import { loadConfig } from '../../src/config/index.js'
import { MemoryEffectLedger } from '../../src/effects/effect-ledger.js'
import { Executor } from '../../src/effects/executor.js'
import { RedisTriageStore } from '../../src/triage/redis-triage-store.js'
import { RepoModels } from '../../src/triage/repo-models.js'
import { GiteaTriageService } from '../../src/triage/triage-service.js'
import { EventJob } from '../../src/events/payloads.js'
import { startGiteaDouble } from '../../src/gitea/double/index.js'
import { GiteaJsAdapter } from '../../src/gitea/gitea-js-adapter.js'
import type { RepoRef } from '../../src/gitea/port.js'
import { createLogger } from '../../src/logger.js'
import { createRedis } from '../../src/queue/connection.js'
import { createEventsProducer, EVENTS_QUEUE } from '../../src/queue/events-producer.js'
import { startRedisServer } from '../../src/queue/redis-server.js'
import { createApp } from '../../src/server/create-app.js'
import { createIngressMetrics } from '../../src/server/ingress-metrics.js'
import { listen } from '../../src/server/listen.js'
import { decideTriage } from '../../src/triage/model/decide-triage.js'
import type { Round, Scenario } from '../scenario.js'

const SECRET = 'bench-secret'
const BOT = 'gitea-bot'
const ISSUES_PER_ROUND = 60
const WARMUP = 10

const TEXTS: [string, string][] = [
  [
    'App crashes when the config file is missing',
    'Steps to reproduce: delete config.yml. Got a stack trace.',
  ],
  ['How do I change the listening port?', 'Is there a way to set it from the environment?'],
  ['Add support for dark mode', 'It would be nice to have a dark theme option.'],
  ['Typo in the README install section', 'The docs say `npm i` twice.'],
  ['Regression: login no longer works after upgrading', 'Used to work in 1.2.'],
  ['Should we adopt a licence policy for vendored code?', 'Needs a decision.'],
]

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN
}

function stats(ms: number[]): { p50: number; p99: number; max: number } {
  const s = [...ms].sort((a, b) => a - b)
  return { p50: quantile(s, 0.5), p99: quantile(s, 0.99), max: s[s.length - 1] ?? NaN }
}

export const triageScenario: Scenario = {
  name: 'triage',
  description:
    'Time from an issue being opened in the Gitea double (which sends the signed issues/opened webhook) to ' +
    'its triage applied: real ingress -> BullMQ events queue on a real redis-server -> a minimal BullMQ ' +
    'Worker standing in for the router (built in parallel) that runs the triage-new-issue handler and the ' +
    'real Executor (labels, one comment, the Redis record) through the gitea-js adapter over HTTP. ' +
    'Baseline, same run: decideTriage plus one direct addIssueLabels call per issue, no webhook or queue.',
  async run({ rounds, progress }) {
    const dir = mkdtempSync(join(tmpdir(), 'uw-bench-triage-'))
    const redisServer = await startRedisServer({ dir })
    const gitea = await startGiteaDouble()
    const d = gitea.double
    const bot = d.createUser({ login: BOT })
    d.createUser({ login: 'alice' })
    const port = new GiteaJsAdapter({ baseUrl: gitea.url, token: bot.token })
    const log = createLogger({ level: 'warn', destination: createWriteStream('/dev/null') })
    const prefix = '{benchtriage}'
    const producerConn = createRedis(redisServer.url, 'producer')
    const workerConn = createRedis(redisServer.url, 'worker')
    const storeConn = createRedis(redisServer.url, 'producer', { enableOfflineQueue: true })
    await new Promise((resolve) => producerConn.once('ready', resolve))

    const config = loadConfig({ WEBHOOK_SECRET: SECRET })
    const events = createEventsProducer({
      connection: producerConn,
      prefix,
      dedupeTtlSeconds: config.file.dedupeTtlSeconds,
    })
    const app = createApp({
      config,
      log,
      events,
      redis: producerConn,
      botLogin: BOT,
      checkGitea: async () => undefined,
      metrics: createIngressMetrics(new Registry()),
    })
    const http = await listen(app, { host: '127.0.0.1', port: 0 })

    const store = new RedisTriageStore(storeConn, prefix)
    const triage = new GiteaTriageService({
      port,
      store,
      models: new RepoModels(store),
      config: config.file.triage,
      log,
    })
    const executor = new Executor({
      port,
      jobs: {
        enqueue: async () => undefined,
        cancel: async () => undefined,
        retry: async () => undefined,
        approve: async () => undefined,
        deny: async () => undefined,
      },
      ledger: new MemoryEffectLedger(),
      log,
      triageRecords: store,
    })
    const ctx = { botLogin: BOT, triage, config: config.file.triage, log }
    const waiting = new Map<string, (t: number) => void>()
    const worker = new Worker(
      EVENTS_QUEUE,
      async (bullJob) => {
        const job = EventJob.parse(bullJob.data)
        if (!triageNewIssue.accepts(job)) return
        await executor.apply(await triageNewIssue.handle(job, ctx))
        const key =
          job.event === 'issues' ? `${job.payload.repository.full_name}#${job.payload.issue.number}` : ''
        waiting.get(key)?.(performance.now())
      },
      { connection: workerConn, prefix, concurrency: 4 },
    )
    worker.on('error', (err) => log.error({ err }, 'bench worker error'))

    const makeRepo = async (name: string, hook: boolean): Promise<RepoRef> => {
      const repo = d.createRepo({ owner: 'alice', name })
      d.addCollaborator(repo, BOT, 'write')
      await syncLabels(port, repo, { confirm: true, catalogue: loadCatalogue() })
      if (hook) d.addHook(repo, { url: `${http.url}/webhooks/gitea`, secret: SECRET, contentType: 'json' })
      return repo
    }
    let seq = 0
    const subjectOnce = async (repo: RepoRef): Promise<number> => {
      const [title, body] = TEXTS[seq++ % TEXTS.length]!
      let resolve!: (t: number) => void
      const done = new Promise<number>((r) => (resolve = r))
      const next = d.repoOf(repo).issues.size + 1
      waiting.set(`${repo.owner}/${repo.name}#${next}`, resolve)
      const start = performance.now()
      const issue = d.createIssue(repo, { title, body, author: 'alice' })
      if (issue.number !== next) throw new Error('issue numbering drifted')
      const end = await Promise.race([
        done,
        new Promise<number>((_, reject) => setTimeout(() => reject(new Error('triage timed out')), 10_000)),
      ])
      waiting.delete(`${repo.owner}/${repo.name}#${next}`)
      if (d.labelNames(repo, issue.number).length === 0) throw new Error('no labels were applied')
      return end - start
    }
    const baselineOnce = async (repo: RepoRef, ids: Map<string, number>): Promise<number> => {
      const [title, body] = TEXTS[seq++ % TEXTS.length]!
      const start = performance.now()
      const issue = d.createIssue(repo, { title, body, author: 'alice' })
      const decision = decideTriage({ title, body })
      await port.addIssueLabels(
        repo,
        issue.number,
        decision.labels.map((l) => ids.get(l)!),
      )
      return performance.now() - start
    }

    try {
      const subjectRepo = await makeRepo('subject', true)
      const baselineRepo = await makeRepo('baseline', false)
      const ids = new Map((await port.listLabels(baselineRepo)).map((l) => [l.name, l.id]))
      for (let i = 0; i < WARMUP; i++) {
        await subjectOnce(subjectRepo)
        await baselineOnce(baselineRepo, ids)
      }
      const out: Round[] = []
      for (let r = 0; r < rounds; r++) {
        const subject: number[] = []
        const baseline: number[] = []
        for (let i = 0; i < ISSUES_PER_ROUND; i++) {
          subject.push(await subjectOnce(subjectRepo))
          baseline.push(await baselineOnce(baselineRepo, ids))
        }
        const s = stats(subject)
        const b = stats(baseline)
        out.push({ subject: s, baseline: b })
        progress(
          `  round ${r + 1}/${rounds}: webhook->labels p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms; ` +
            `baseline p50 ${b.p50.toFixed(1)} ms, p99 ${b.p99.toFixed(1)} ms`,
        )
      }
      return {
        subject:
          'issue opened -> webhook -> ingress -> events queue -> handler + Executor -> labels, comment, record',
        baseline: 'decideTriage + one direct addIssueLabels (no webhook, queue, re-read or comment)',
        metrics: [
          { key: 'p50', label: 'p50 opened -> triaged', unit: 'ms', better: 'lower' },
          { key: 'p99', label: 'p99 opened -> triaged', unit: 'ms', better: 'lower' },
          { key: 'max', label: 'max opened -> triaged', unit: 'ms', better: 'lower' },
        ],
        rounds: out,
        targets: [{ metric: 'p99', kind: 'max', value: 1000, description: 'p99 < 1 s' }],
        settings: {
          issuesPerRound: ISSUES_PER_ROUND,
          warmup: WARMUP,
          workerConcurrency: 4,
          arrival: 'one issue at a time (closed loop)',
          redis: 'redis-server child, loopback',
          gitea: 'Gitea double over HTTP, labels synced beforehand, triage comment on',
        },
      }
    } finally {
      await worker.close()
      await http.close()
      await events.close()
      producerConn.disconnect()
      workerConn.disconnect()
      storeConn.disconnect()
      await gitea.stop()
      await redisServer.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  },
}
