import { readFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import { Redis } from 'ioredis'
import { MemoryEffectLedger } from '../../src/effects/effect-ledger.js'
import type { EventHandlerContext } from '../../src/router/event-handler.js'
import { Executor } from '../../src/effects/executor.js'
import type { JobsControl } from '../../src/jobs/jobs.js'
import { RedisTriageStore } from '../../src/triage/redis-triage-store.js'
import { RepoModels } from '../../src/triage/repo-models.js'
import { TriageConfig } from '../../src/triage/triage-config.js'
import { GiteaTriageService } from '../../src/triage/triage-service.js'
import { EventJob, parsePayload, type SupportedEvent } from '../../src/events/payloads.js'
import { startGiteaDouble, type RunningGiteaDouble } from '../../src/gitea/double/index.js'
import { GiteaJsAdapter } from '../../src/gitea/gitea-js-adapter.js'
import { createLogger } from '../../src/logger.js'
import { testRedisUrl, uniquePrefix } from '../helpers/redis.js'

export const BOT = 'gitea-bot'

const noJobs: JobsControl = {
  enqueue: () => Promise.reject(new Error('triage enqueues no jobs')),
  cancel: () => Promise.resolve(),
  retry: () => Promise.resolve(),
  approve: () => Promise.resolve(),
  deny: () => Promise.resolve(),
}

/** A webhook fixture (captured or synthetic) as a parsed object. */
export function fixture(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../fixtures/webhooks/${path}`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >
}

/** A delivery as the router gets it off the `events` queue. */
export function eventJob(event: SupportedEvent, payload: unknown, deliveryId: string): EventJob {
  const parsed = parsePayload(event, payload)
  if (!parsed.ok) throw new Error(`fixture does not parse: ${parsed.problem.path} ${parsed.problem.message}`)
  const action = (payload as { action: string }).action
  return EventJob.parse({
    deliveryId,
    event,
    action,
    receivedAt: new Date().toISOString(),
    payload: parsed.payload,
  })
}

export interface Wire {
  gitea: RunningGiteaDouble
  port: GiteaJsAdapter
  redis: Redis
  prefix: string
  store: RedisTriageStore
  models: RepoModels
  triage: GiteaTriageService
  executor: Executor
  ctx: EventHandlerContext
  /** Adapter acting as a given user (people changing labels). */
  as(login: string): GiteaJsAdapter
  close(): Promise<void>
}

/** The real chain: Gitea double over HTTP, gitea-js adapter, Redis triage store, Executor. */
export async function startWire(config: Partial<TriageConfig> = {}): Promise<Wire> {
  const gitea = await startGiteaDouble()
  const bot = gitea.double.createUser({ login: BOT })
  const port = new GiteaJsAdapter({ baseUrl: gitea.url, token: bot.token, retry: { attempts: 1 } })
  const redis = new Redis(testRedisUrl())
  const prefix = uniquePrefix()
  const store = new RedisTriageStore(redis, prefix)
  const models = new RepoModels(store)
  const triageConfig = TriageConfig.parse(config)
  const log = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) })
  const triage = new GiteaTriageService({ port, store, models, config: triageConfig, log })
  const executor = new Executor({
    port,
    jobs: noJobs,
    ledger: new MemoryEffectLedger(),
    log,
    triageRecords: store,
  })
  return {
    gitea,
    port,
    redis,
    prefix,
    store,
    models,
    triage,
    executor,
    ctx: { botLogin: BOT, triage, config: triageConfig, log },
    as: (login) =>
      new GiteaJsAdapter({ baseUrl: gitea.url, token: gitea.double.tokenOf(login), retry: { attempts: 1 } }),
    close: async () => {
      redis.disconnect()
      await gitea.stop()
    },
  }
}

/** Labels per scope on an issue: every scope must hold at most one. */
export function scopes(labels: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const l of labels) {
    const scope = l.includes('/') ? l.slice(0, l.lastIndexOf('/')) : '(none)'
    ;(out[scope] ??= []).push(l)
  }
  return out
}
