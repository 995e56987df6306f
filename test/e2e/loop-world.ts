import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { Queue } from 'bullmq'
import { stringify } from 'yaml'
import { loadConfig, type Config } from '../../src/config/index.js'
import { startServices, type RunningServices, type ServicePieces } from '../../src/daemon/start-services.js'
import { startLoop, type RunningLoop } from '../../src/daemon/start-loop.js'
import { startGiteaDouble, type RunningGiteaDouble } from '../../src/gitea/double/index.js'
import { GiteaJsAdapter, type GiteaJsAdapterOptions } from '../../src/gitea/gitea-js-adapter.js'
import type { GiteaComment, RepoRef } from '../../src/gitea/port.js'
import { createLogger } from '../../src/logger.js'
import { createRedis, type RedisClient } from '../../src/queue/connection.js'
import { EVENTS_QUEUE } from '../../src/queue/events-producer.js'
import { freePort } from '../../src/queue/redis-server.js'
import { FINAL_STATES, type JobState } from '../../src/jobs/jobs.js'
import { StoredResult } from '../../src/jobs/stored-result.js'
import { verifyEnvelope } from '../../src/provenance/dsse.js'
import { KeyStore } from '../../src/provenance/key-store.js'
import { readResultComment } from '../../src/report/check-result-comment.js'
import { startGitHttpServer, type GitHttpServer } from '../helpers/git-http.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

export const SECRET = 'e2e-webhook-secret'
export const BOT = 'uni-wizard'
export type Person = 'writer' | 'sovereign' | 'reader'
const LOGINS: Record<Person, string> = { writer: 'wren', sovereign: 'sage', reader: 'rory' }

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@t',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@t',
    },
  })
}

/**
 * A git repo with one commit and a bare `origin` it tracks, in a temp dir, on the branch
 * `uw/bezalel/work`. `origin` is served over
 * real HTTP (git http-backend), the only kind of remote git tools accept; loopback is allowlisted
 * in `e2eFileConfig`.
 */
export async function makeWorkspace(
  dir: string,
): Promise<{ repo: string; remote: string; server: GitHttpServer }> {
  const remote = join(dir, 'remote.git')
  const repo = join(dir, 'repo')
  mkdirSync(repo, { recursive: true })
  git(dir, 'init', '-q', '--bare', '-b', 'main', remote)
  git(repo, 'init', '-q', '-b', 'main')
  writeFileSync(join(repo, 'README.md'), '# demo\n')
  git(repo, 'add', 'README.md')
  git(repo, 'commit', '-q', '-m', 'first')
  // Seeded through the path (a synchronous git call would block the in-process HTTP server), then
  // pointed at the server.
  git(repo, 'remote', 'add', 'origin', remote)
  git(repo, 'push', '-q', '-u', 'origin', 'main')
  // Work happens on bezalel's own branch: git_push pushes only under uw/<house>/, never main.
  git(repo, 'checkout', '-q', '-b', 'uw/bezalel/work')
  const server = await startGitHttpServer({ projectRoot: dir })
  git(repo, 'remote', 'set-url', 'origin', server.repoUrl('remote.git'))
  return { repo, remote, server }
}

/** The file config every e2e test runs with: short locks, fast reporter retries, a slow tool. */
export function e2eFileConfig(workspace: string, keyDir: string): Record<string, unknown> {
  const house = { sovereigns: [LOGINS.sovereign], workspaceRoots: [workspace] }
  return {
    houses: {
      timmy: house,
      ezra: { ...house, readBeforeWrite: false },
      bezalel: { ...house, approvalRequired: 'writes', mode: 'simple' },
      allegro: house,
    },
    keys: { dir: keyDir },
    daemon: {
      defaultHouse: 'ezra',
      workers: { lockDurationMs: 1000, stalledIntervalMs: 500, heartbeatMs: 200, shutdownGraceMs: 2000 },
      reporter: { backoffMs: 50, maxBackoffMs: 400 },
    },
    commands: {
      rateLimit: {
        perUser: { limit: 1000, windowSeconds: 60 },
        perIssue: { limit: 1000, windowSeconds: 60 },
      },
    },
    toolSettings: {
      // The workspace's origin is served on loopback (makeWorkspace).
      http: { allowHosts: ['127.0.0.1'] },
      customTools: [
        {
          name: 'slow',
          description: 'Sleeps (a stand-in for a long read tool)',
          command: ['sleep', '{seconds}'],
          args: { seconds: { type: 'string', pattern: '\\d+(\\.\\d+)?' } },
          access: 'read',
          timeoutMs: 20_000,
        },
      ],
    },
  }
}

/** What a test may change in a world: its file config, and the bot's Gitea adapter options. */
export interface LoopWorldOptions {
  /** Edits the file config (from `e2eFileConfig`) before it is written. */
  fileConfig?: (config: Record<string, unknown>) => Record<string, unknown>
  /** Options of the bot's in-process Gitea adapter (retry policy, request timeout). */
  adapter?: Partial<Pick<GiteaJsAdapterOptions, 'retry' | 'requestTimeoutMs'>>
  /** Host `olive/demo` as a real git repository (README on `main`), so houses can check it out. */
  git?: boolean
  /** Keep every line the world's logger writes (level debug) in `logLines`, instead of none. */
  captureLogs?: boolean
  /**
   * A Redis of the test's own (one it stops and starts, a Sentinel or Cluster URL) instead of the
   * run's shared one.
   */
  redisUrl?: string
  /**
   * Changes the loaded configuration before the services start, when the double and the bot's
   * port are known (an OAuth2 application on the double for the dashboard, say).
   */
  configure?: (config: Config, world: LoopWorld) => Config
}

/** Real Gitea double over HTTP, real ingress, router, reporter and workers on the test Redis. */
export class LoopWorld {
  constructor(private readonly options: LoopWorldOptions = {}) {
    this.redisUrl = options.redisUrl ?? testRedisUrl()
    // Through createRedis: the world may run on a Sentinel or Cluster URL.
    this.redis = createRedis(this.redisUrl, 'worker', { maxRetriesPerRequest: 1 })
    // A test may stop or fail over its Redis: the inspector reconnects, it must not crash the run.
    this.redis.on('error', () => undefined)
  }

  readonly dir = mkdtempSync(join(tmpdir(), 'uw-e2e-'))
  readonly prefix = uniquePrefix()
  readonly keyDir = join(this.dir, 'keys')
  readonly configFile = join(this.dir, 'uw.yaml')
  workspace!: { repo: string; remote: string; server: GitHttpServer }
  gitea!: RunningGiteaDouble
  services!: RunningServices
  config!: Config
  repo!: RepoRef
  tokens!: Record<Person | 'bot', string>
  readonly redisUrl: string
  readonly redis: RedisClient
  /** Every log line of the loop (router, workers, reporter, checkouts...) with `captureLogs`. */
  readonly logLines: string[] = []
  private events!: Queue

  /** Environment for a child `uni-wizard` process joining this world. */
  childEnv(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      REDIS_URL: this.redisUrl,
      GITEA_URL: this.gitea.url,
      GITEA_TOKEN: this.tokens.bot,
      WEBHOOK_SECRET: SECRET,
      BOT_LOGIN: BOT,
      UW_CONFIG: this.configFile,
      // Beside the workspace (ws/), not around it: a workspace root inside the data dir is refused.
      UW_DATA_DIR: join(this.dir, 'data'),
      UW_PREFIX: this.prefix,
      LOG_LEVEL: 'warn',
    }
  }

  async start(pieces?: ServicePieces): Promise<this> {
    this.workspace = await makeWorkspace(join(this.dir, 'ws'))
    const base = e2eFileConfig(this.workspace.repo, this.keyDir)
    writeFileSync(this.configFile, stringify(this.options.fileConfig?.(base) ?? base))
    this.gitea = await startGiteaDouble({ port: 0 })
    const d = this.gitea.double
    const bot = d.createUser({ login: BOT })
    d.createUser({ login: 'olive' })
    const people = Object.fromEntries(
      (Object.keys(LOGINS) as Person[]).map((p) => [p, d.createUser({ login: LOGINS[p] }).token]),
    ) as Record<Person, string>
    this.tokens = { ...people, bot: bot.token }
    this.repo = d.createRepo({ owner: 'olive', name: 'demo', ...(this.options.git ? { git: true } : {}) })
    if (this.options.git) d.seedCommits(this.repo, { 'README.md': '# demo\n' }, 'Initial commit')
    d.addCollaborator(this.repo, BOT, 'admin')
    d.addCollaborator(this.repo, LOGINS.writer, 'write')
    d.addCollaborator(this.repo, LOGINS.sovereign, 'admin')
    const port = await freePort()
    this.config = loadConfig({
      ...this.childEnv(),
      HOST: '127.0.0.1',
      PORT: String(port),
    })
    if (this.options.configure) this.config = this.options.configure(this.config, this)
    const log = this.options.captureLogs
      ? createLogger({
          level: 'debug',
          destination: new Writable({
            write: (chunk: Buffer, _enc, cb) => {
              this.logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean))
              cb()
            },
          }),
        })
      : createLogger({ level: 'silent' })
    const gitea = new GiteaJsAdapter({
      baseUrl: this.gitea.url,
      token: bot.token,
      retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 50 },
      ...this.options.adapter,
    })
    this.services = await startServices(this.config, log, {
      resolveBotLogin: async () => BOT,
      checkGitea: async () => undefined,
      port: gitea,
      prefix: this.prefix,
      pieces,
    })
    d.addHook(this.repo, {
      url: `${this.services.httpUrl}/webhooks/gitea`,
      secret: SECRET,
      contentType: 'json',
    })
    this.events = new Queue(EVENTS_QUEUE, { connection: this.redis, prefix: this.prefix })
    this.events.on('error', () => undefined)
    return this
  }

  api(who: Person | 'bot'): GiteaJsAdapter {
    return new GiteaJsAdapter({ baseUrl: this.gitea.url, token: this.tokens[who], retry: { attempts: 1 } })
  }

  /** Opens an issue as the writer (the double delivers `issues.opened`). */
  async openIssue(title = 'Something to check'): Promise<number> {
    return (await this.api('writer').createIssue(this.repo, { title, body: 'Please look.' })).number
  }

  async comment(who: Person, issue: number, body: string): Promise<GiteaComment> {
    return this.api(who).createComment(this.repo, issue, body)
  }

  botComments(issue: number): { id: number; body: string }[] {
    const botId = this.gitea.double.store.userByLogin(BOT)?.id
    return this.gitea.double
      .comments(this.repo, issue)
      .filter((c) => c.posterId === botId)
      .map((c) => ({ id: c.id, body: c.body }))
  }

  /** The bot's ack comments for a job id (there must only ever be one). */
  /** The stored result of a job's current run (what the worker recorded, statement included). */
  async storedResult(jobId: string): Promise<StoredResult> {
    const rec = await this.services.loop!.store.getRecord(jobId)
    const progress = await this.services.loop!.store.progress(rec!.runId)
    return StoredResult.parse(JSON.parse(progress.result!))
  }

  /** The predicate a result comment's envelope signs; throws when the signature does not verify. */
  signedPredicate(ackBody: string): Record<string, unknown> {
    const read = readResultComment(ackBody)
    const keys = new KeyStore(this.keyDir).publicKeys().map((k) => k.publicKey)
    const v = verifyEnvelope(read.ok ? read.comment.envelope : undefined, keys)
    if (!v.valid) throw new Error(`the result comment's envelope does not verify: ${v.reason}`)
    return (JSON.parse(v.payload.toString('utf8')) as { predicate: Record<string, unknown> }).predicate
  }

  /**
   * Starts workers for `houses` in this process on the world's Redis and Gitea (another machine's
   * workers, e.g. the one that takes over a crashed worker's job); the caller stops them.
   */
  startWorkers(houses: string[], workerId: string): Promise<RunningLoop> {
    return startLoop({
      config: this.config,
      log: createLogger({ level: 'silent' }),
      redisUrl: this.redisUrl,
      port: new GiteaJsAdapter({ baseUrl: this.gitea.url, token: this.tokens.bot }),
      botLogin: BOT,
      pieces: { router: false, reporter: false, workers: houses },
      prefix: this.prefix,
      workerId,
    })
  }

  /** Waits for a job's ack comment to show a final state (success, failure, cancelled, ...). */
  finalAck(issue: number, jobId: string, ms = 30_000): Promise<{ id: number; body: string }> {
    return until(
      `the final state of ${jobId}`,
      () => {
        const a = this.acks(issue, jobId)[0]
        return a && isFinalAck(a.body) ? a : undefined
      },
      ms,
    )
  }

  acks(issue: number, jobId: string): { id: number; body: string }[] {
    return this.botComments(issue).filter((c) => c.body.includes(`<!-- uni-wizard:ack job=${jobId} `))
  }

  /** Waits until every webhook was delivered and the router has nothing waiting or running. */
  async settle(): Promise<void> {
    await this.gitea.double.settleWebhooks()
    await until('router idle', async () => {
      const c = await this.events.getJobCounts('waiting', 'active', 'delayed', 'prioritized')
      return Object.values(c).every((n) => n === 0) ? true : undefined
    })
  }

  eventsQueue(): Queue {
    return this.events
  }

  reactions(commentId: number): string[] {
    return this.gitea.double
      .repoOf(this.repo)
      .reactions.filter((r) => r.commentId === commentId)
      .map((r) => r.content)
  }

  async stop(): Promise<void> {
    await this.services?.stop()
    await this.events?.close()
    await this.gitea?.stop()
    await this.workspace?.server.stop()
    this.redis.disconnect()
    await cleanupPrefix(this.prefix, this.redisUrl)
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/**
 * Polls until `probe` returns a value (not undefined), or fails after `ms`.
 *
 * @example
 *   const ack = await until('ack', () => world.acks(1, id)[0])
 */
export async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await probe()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** Whether an ack comment shows a final state (the job records' `FINAL_STATES`). */
export function isFinalAck(body: string): boolean {
  const state = ackState(body)?.state
  return state !== undefined && FINAL_STATES.has(state as JobState)
}

/** The job id and state in an ack comment. */
export function ackState(body: string): { jobId: string; state: string } | undefined {
  const m = /<!-- uni-wizard:ack job=(\S+) state=(\S+) -->/.exec(body)
  return m ? { jobId: m[1] as string, state: m[2] as string } : undefined
}
