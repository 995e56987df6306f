import { hostname } from 'node:os'
import { join, resolve } from 'node:path'
import { CheckoutManager } from '../checkouts/checkout-manager.js'
import {
  commentHandlers as defaultCommentHandlers,
  eventHandlers as defaultEventHandlers,
} from '../../handlers/index.js'
import { commands as defaultCommands } from '../../commands/index.js'
import type { Config } from '../config/index.js'
import type { CommitState, GiteaPort, RepoRef } from '../gitea/port.js'
import { Harness } from '../harness/harness.js'
import { agentKeys } from '../houses/agent-config.js'
import { resolveHouses } from '../houses/house-policy.js'
import { backupProblems } from '../houses/backup-policy.js'
import { ConfigError } from '../config/config-error.js'
import { startFailover } from '../workers/failover.js'
import type { Logger } from '../logger.js'
import { createRedis, DEFAULT_PREFIX } from '../queue/connection.js'
import { ReplicaWait } from '../queue/replica-wait.js'
import { parseRedisUrl } from '../queue/redis-url.js'
import { toolsFromConfig } from '../tools/tools-from-config.js'
import type { ToolSpec } from '../tools/tool.js'
import { BullJobs } from '../jobs/bull-jobs.js'
import type { HousesView, TriageService } from '../commands-core/command-spec.js'
import type { EventHandler, TriageEngine } from '../router/event-handler.js'
import { RedisCommentClaims } from '../router/comment-claims.js'
import { daemonHouses } from '../workers/house-workspaces.js'
import { defaultKeyDir, KeyStore } from '../provenance/key-store.js'
import { RedisEffectLedger } from '../effects/effect-ledger.js'
import { Executor } from '../effects/executor.js'
import type { CommentHandler } from '../router/comment-handler.js'
import { liveness } from '../workers/heartbeat.js'
import { startHouseWorker, type RunningHouseWorker } from '../workers/house-worker.js'
import { houseInfo, toolInfo } from '../workers/house-vocabulary.js'
import { houseForTask } from '../houses/house-for-task.js'
import { agentLimits, backendFor } from '../agents/backend-for.js'
import { taskPrompter } from '../workers/task-prompt.js'
import { TokenBudget } from '../workers/token-budget.js'
import { commentKey } from '../effects/idempotency.js'
import { RedisJobStore } from '../jobs/job-store.js'
import { RedisRateLimiter } from '../router/rate-limit.js'
import { startReporter } from '../report/reporter.js'
import { createRedactor } from '../harness/redactor.js'
import { NO_TELEMETRY, RedisTelemetry } from '../telemetry/index.js'
import { RedisTriageStore } from '../triage/redis-triage-store.js'
import { RepoModels } from '../triage/repo-models.js'
import { routerApprovalSigner, strayHouseKeys } from '../router/router-approvals.js'
import { startRouter } from '../router/router.js'
import { GiteaTriageService } from '../triage/triage-service.js'
import { settleWithin } from '../settle-within.js'
import { meteredTelemetry, type UwMetrics } from '../metrics/index.js'
import { dashboardLink } from '../dashboard/dashboard-links.js'
import { StressMonitor } from '../stress/index.js'
import { intelligenceFor } from '../intelligence/intelligence-for.js'

/** Which parts of the loop this process runs. */
export interface LoopPieces {
  router: boolean
  reporter: boolean
  /** House names to run workers for (empty: none). */
  workers: readonly string[]
}

export interface StartLoopOptions {
  config: Config
  log: Logger
  redisUrl: string
  port: GiteaPort
  botLogin: string
  pieces: LoopPieces
  prefix?: string
  /** Handlers of non-comment events. Default: handlers/index.ts (triage on open, learning from corrections). */
  eventHandlers?: readonly EventHandler[]
  /** Default: handlers/index.ts. */
  commentHandlers?: readonly CommentHandler[]
  /**
   * Triage for new issues, `/triage` and corrections. Default: GiteaTriageService over Redis when
   * `triage.enabled` (the default); with triage disabled, `/triage` answers that it is not enabled.
   */
  triage?: TriageEngine
  /** Default: built-ins plus `toolSettings.customTools`. */
  tools?: readonly ToolSpec[]
  /** Default: config `keys.dir`, else `<UW_DATA_DIR>/keys`. */
  keyDir?: string
  /** Worker id stem, default `<hostname>:<pid>`. */
  workerId?: string
  /**
   * The Gitea URL the bot talks to, default GITEA_URL. With one, houses default to per-job
   * checkouts of the issue's repository (fetched only from this origin, with GITEA_TOKEN);
   * without one, every house works in its static `workspaceRoots`.
   */
  giteaUrl?: string
  /** The process's metrics (registerLoopMetrics), fed by the telemetry sink and the token budgets. */
  metrics?: UwMetrics
}

/** The running loop: what it started and how to stop it. */
export interface RunningLoop {
  jobs: BullJobs
  store: RedisJobStore
  workers: RunningHouseWorker[]
  /** The workers' stress (event-loop lag, queue wait, Redis latency); unset without workers or when off. */
  stress: StressMonitor | undefined
  /**
   * Stops workers (with their grace period), router, reporter, then the connections. Bounded also
   * when Redis is unreachable: what comes after the workers shares `STOP_MARGIN_MS`. Resolves true
   * when every piece stopped cleanly.
   */
  stop(): Promise<boolean>
}

/**
 * What stopping the router, reporter and connections may take, together, after the workers have
 * stopped. Their closes wait for Redis (QUIT, a job's end), which may never answer.
 */
export const STOP_MARGIN_MS = 1_000

/**
 * What `/triage` does when triage is disabled (`triage.enabled: false`): says so, once per command.
 */
export const triageNotEnabled: TriageService = {
  async triage(req) {
    return [
      {
        type: 'comment',
        repo: req.repo,
        issue: req.issue,
        key: commentKey({ deliveryId: req.deliveryId, commentId: req.commentId }, 'triage'),
        body: `@${req.requester}, triage is turned off on this bot (\`triage.enabled: false\`), so \`/triage\` did nothing.`,
      },
    ]
  },
}

/**
 * Starts the bot loop's pieces in this process against one Redis: the router (events → effects),
 * the reporter (reports → comment edits) and house workers (house-<name> → Harness), sharing the
 * job records. Every piece can run in a different process or machine with the same Redis.
 *
 * @example
 *   const loop = await startLoop({ config, log, redisUrl, port, botLogin: 'uni-wizard',
 *     pieces: { router: true, reporter: true, workers: ['timmy', 'bezalel'] } })
 *   await loop.stop()
 */
export async function startLoop(opts: StartLoopOptions): Promise<RunningLoop> {
  const { config, log, port, pieces } = opts
  const prefix = opts.prefix ?? DEFAULT_PREFIX
  const keyDir = opts.keyDir ?? config.file.keys.dir ?? defaultKeyDir(config.env.UW_DATA_DIR)
  const giteaUrl = opts.giteaUrl ?? config.env.GITEA_URL
  const file = daemonHouses(config.file, config.env.UW_DATA_DIR, keyDir, { checkouts: Boolean(giteaUrl) })
  const policies = resolveHouses(file.houses)
  const houseNames = Object.keys(policies)
  for (const h of pieces.workers)
    if (!policies[h]) throw new Error(`unknown house ${h} (known: ${houseNames.join(', ')})`)
  const tools = opts.tools ?? toolsFromConfig(file.toolSettings)
  // A house never fails over to a less strict policy: refused here, before anything starts.
  const backups = backupProblems(
    policies,
    tools.map((t) => t.name),
  )
  if (backups.length > 0)
    throw new ConfigError(
      backups.map((b) => ({
        where: `UW_CONFIG houses.${b.house}.backup`,
        expected: 'another configured house, as strict as this one or stricter, with no cycle',
        found: b.problem,
      })),
    )
  const connection = createRedis(opts.redisUrl, 'worker')
  connection.on('error', (err: Error) => log.warn({ err }, 'redis (loop) error'))
  const store = new RedisJobStore(connection, prefix)
  const { waitReplicas, waitTimeoutMs } = config.file.redis
  const replicas =
    waitReplicas > 0 && (pieces.workers.length > 0 || pieces.router)
      ? new ReplicaWait(connection, {
          replicas: waitReplicas,
          timeoutMs: waitTimeoutMs,
          key: `${prefix}:replica-wait`,
        })
      : undefined
  // The Redis password too (the embedded server's, or one in REDIS_URL): a tool must not echo it.
  // The houses' agent keys too: no tool output, event or transcript may hold one.
  const secrets = [
    config.env.GITEA_TOKEN,
    ...config.env.WEBHOOK_SECRET,
    redisPassword(opts.redisUrl),
    ...agentKeys(Object.values(policies)),
    file.telemetry.token?.reveal(),
    file.telemetry.sink?.token?.reveal(),
  ]
  // A legacy approval could live as long as the router's approval TTL: that bounds the upgrade window.
  const legacyApprovalGraceSeconds = file.keys.legacyApprovalGraceSeconds ?? file.commands.approvalTtlSeconds
  const harnessConfig = { ...file, keys: { ...file.keys, legacyApprovalGraceSeconds } }
  // One per process: event-loop lag and Redis latency are the process's, queue waits each house's.
  const stressConfig = file.daemon.workers.stress
  const stress =
    pieces.workers.length > 0 && stressConfig.enabled
      ? new StressMonitor({
          config: stressConfig,
          redis: connection,
          log: log.child({ component: 'stress' }),
        })
      : undefined
  const harnesses = new Map<string, Harness>()
  const harnessFor = (house: string): Harness => {
    let h = harnesses.get(house)
    if (!h) {
      h = new Harness({
        house,
        config: harnessConfig,
        tools,
        redis: connection,
        redisPrefix: prefix,
        keyDir,
        log,
        gitea: port as never,
        context: { toolConfig: file.toolSettings },
        secrets,
        sign: true,
        ...(stress ? { stress: stress.house(house) } : {}),
      })
      harnesses.set(house, h)
    }
    return h
  }
  // Only the router signs approvals, with its own key; workers verify them with its public key.
  const keys = new KeyStore(keyDir)
  const signApproval = pieces.router ? routerApprovalSigner({ keys, tools, log }) : undefined
  const stray = pieces.router ? strayHouseKeys(keys, pieces.workers) : undefined
  if (stray) log.warn(stray)
  // Every event's text passes the same redactor as tool results (docs/TELEMETRY.md).
  const stream = file.telemetry.enabled
    ? new RedisTelemetry({
        redis: connection,
        prefix,
        retention: file.telemetry,
        redact: createRedactor(secrets),
        log: log.child({ component: 'telemetry' }),
      })
    : NO_TELEMETRY
  // The job metrics count the same steps the stream records, also with the stream turned off.
  const telemetry = opts.metrics ? meteredTelemetry(stream, opts.metrics.jobs) : stream
  const jobs = new BullJobs({
    connection,
    prefix,
    store,
    houses: houseNames,
    log,
    reportAttempts: file.daemon.reporter.attempts,
    signApproval,
    telemetry,
  })

  const checkoutHouses = pieces.workers.filter((h) => policies[h]!.workspace === 'checkout')
  const checkouts =
    giteaUrl && checkoutHouses.length > 0 ? checkoutManager(config, file, giteaUrl, log) : undefined

  // A piece's stop resolves false when it did not stop cleanly (the workers say so themselves).
  const stops: { name: string; stop: () => Promise<boolean | void> }[] = []
  const stop = async (): Promise<boolean> => {
    let clean = true
    let deadline: number | undefined
    for (const s of stops.splice(0).reverse()) {
      // The workers bound their own wait (grace period); the pieces after them share the margin.
      const bounded = s.name === 'workers'
      const stopping = s.stop().then(
        (ok) => ok !== false,
        (err: unknown) => {
          log.error({ err, piece: s.name }, 'stopping failed')
          return false
        },
      )
      if (bounded) {
        clean = (await stopping) && clean
        continue
      }
      deadline ??= Date.now() + STOP_MARGIN_MS
      const result: { ok?: boolean } = {}
      await settleWithin(
        stopping.then((ok) => void (result.ok = ok)),
        deadline - Date.now(),
      )
      if (result.ok === undefined) log.warn({ piece: s.name }, 'did not stop in time (is Redis reachable?)')
      clean = result.ok === true && clean
    }
    return clean
  }
  stops.push({
    name: 'connection',
    stop: async () => {
      try {
        await settleWithin(
          (async () => {
            await jobs.close()
            for (const h of harnesses.values()) await h.close()
          })(),
          STOP_MARGIN_MS,
        )
      } finally {
        // Always: a connection left open keeps reconnecting, and the process alive.
        connection.disconnect()
        replicas?.close()
      }
    },
  })
  const workers: RunningHouseWorker[] = []
  try {
    if (pieces.reporter) {
      const reporter = await startReporter({
        connection,
        prefix,
        store,
        port,
        ledger: new RedisEffectLedger(connection, prefix),
        settings: file.daemon.reporter,
        botLogin: opts.botLogin,
        log,
        telemetry,
      })
      stops.push({ name: 'reporter', stop: () => reporter.close() })
    }
    if (pieces.router) {
      const houseList = houseNames.map((n) => houseInfo(policies[n]!, tools))
      const houses: HousesView = {
        list: houseList,
        forTask: (kind) => {
          const c = houseForTask(kind, policies, { routing: file.agents.routing })
          if (c.house === undefined) return { error: c.reason }
          return { house: c.house, reason: c.reason, ...(c.byRole ? { byRole: c.byRole } : {}) }
        },
        defaultHouse: file.daemon.defaultHouse,
        sovereigns: [...new Set(Object.values(policies).flatMap((p) => p.sovereigns))],
        liveness: (house) => liveness(connection, prefix, house),
      }
      const triageStore = new RedisTriageStore(connection, prefix)
      const triage: TriageEngine | undefined =
        opts.triage ??
        (file.triage.enabled
          ? new GiteaTriageService({
              port,
              store: triageStore,
              models: new RepoModels(triageStore, { log }),
              config: file.triage,
              log,
            })
          : undefined)
      const executor = new Executor({
        port,
        jobs,
        ledger: new RedisEffectLedger(connection, prefix),
        log,
        dryRun: file.dryRun,
        triageRecords: triageStore,
        labelCatalogue: file.triage.createMissingLabels ? undefined : false,
        botLogin: opts.botLogin,
        ...(replicas ? { replicas } : {}),
      })
      const router = await startRouter({
        connection,
        prefix,
        executor,
        commentHandlers: opts.commentHandlers ?? defaultCommentHandlers,
        eventHandlers: opts.eventHandlers ?? defaultEventHandlers,
        // Always: triage's handlers do nothing without `triage`, the assignment trigger needs none.
        eventContext: { botLogin: opts.botLogin, triage, config: file.triage, log },
        context: {
          port,
          botLogin: opts.botLogin,
          houses,
          tools: tools.map(toolInfo),
          jobs,
          triage: triage ?? triageNotEnabled,
          limits: new RedisRateLimiter(connection, prefix),
          config: file.commands,
          commands: defaultCommands,
          giteaUrl,
          commandHelpUrl: dashboardLink(file.dashboard, '/commands'),
          intelligence: intelligenceFor({
            redis: connection,
            prefix,
            config: file.intelligence,
            policies,
            tools,
          }),
        },
        concurrency: file.daemon.router.concurrency,
        backoff: file.daemon.router,
        locks: file.daemon.router,
        claims: new RedisCommentClaims(connection, prefix),
        log,
      })
      stops.push({ name: 'router', stop: () => router.close() })
    }
    const stem = opts.workerId ?? `${hostname()}:${process.pid}`
    // A house with an `agent:` takes tasks (/ask, /implement, /review): its backend, prompt
    // builder, budget, and the Gitea calls a task's result needs.
    const agentFor = (house: string) => {
      const policy = policies[house]!
      if (!policy.agent) return undefined
      return {
        agent: {
          backend: backendFor(policy.agent),
          ...(policy.agent.model ? { model: policy.agent.model } : {}),
          limits: agentLimits(policy.agent),
        },
        prompt: taskPrompter({
          port,
          botLogin: opts.botLogin,
          house: { name: house, ...(policy.role ? { role: policy.role } : {}) },
          secrets,
        }),
        progressMs: file.daemon.workers.agentProgressMs,
        postReview: async (repo: RepoRef, number: number, body: string) =>
          (await port.createPullReview(repo, number, { body })).url,
        commitStatus: (repo: RepoRef, sha: string, state: CommitState, description: string) =>
          port.createCommitStatus(repo, sha, {
            state,
            context: `uni-wizard/${house}/implement`,
            description,
          }),
        budget: new TokenBudget(
          connection,
          prefix,
          house,
          policy.agent.limits.dailyTokenBudget,
          Date.now,
          (n) => opts.metrics?.agents.tokens(house, n),
        ),
      }
    }
    for (const house of pieces.workers) {
      const trust = harnessFor(house).routerKeys()
      for (const problem of trust.problems) log.warn({ house }, problem)
      if (
        trust.keys.length === 0 &&
        (policies[house]!.approvalRequired !== 'none' || policies[house]!.mode === 'sovereign')
      )
        log.warn(
          { house, keyDir },
          "no trusted router key: this house's approvals will be denied until the router's _router.pub is in keys.dir or keys.routerPublicKeys",
        )
      const agent = agentFor(house)
      const w = await startHouseWorker({
        house,
        connection,
        prefix,
        store,
        jobs,
        harness: harnessFor(house),
        tools,
        concurrency: policies[house]!.concurrency,
        settings: file.daemon.workers,
        log,
        workerId: `${stem}:${house}`,
        outputCap: file.daemon.reporter.outputCap,
        checkouts,
        ...(agent ? { agent } : {}),
        ...(stress ? { stress: stress.house(house) } : {}),
        ...(replicas ? { replicas } : {}),
      })
      workers.push(w)
    }
    // A worker house that is another house's backup takes its queued jobs while it has no worker.
    for (const house of pieces.workers) {
      const backed = Object.values(policies).filter((p) => p.backup === house)
      if (backed.length === 0) continue
      const failover = startFailover({
        backup: policies[house]!,
        houses: backed,
        tools,
        jobs,
        store,
        connection,
        prefix,
        periodMs: file.daemon.workers.heartbeatMs,
        log,
      })
      stops.push({ name: `failover to ${house}`, stop: async () => failover.stop() })
    }
    if (checkouts) {
      // One sweep per process: kept checkouts past their time, crash leftovers, mirrors over budget.
      const sweep = () =>
        void checkouts.sweep().catch((err: unknown) => log.warn({ err }, 'checkout sweep failed'))
      sweep()
      const sweeper = setInterval(sweep, file.daemon.checkouts.sweepIntervalMs)
      sweeper.unref()
      stops.push({ name: 'checkout sweep', stop: async () => clearInterval(sweeper) })
    }
    if (stress) {
      stress.start()
      stops.push({ name: 'stress monitor', stop: async () => stress.stop() })
    }
    // Workers stop first (they may still report), so they are pushed last.
    stops.push({
      name: 'workers',
      stop: async () => (await Promise.all(workers.map((w) => w.close()))).every(Boolean),
    })
  } catch (err) {
    await Promise.all(workers.map((w) => w.close(0)))
    await stop()
    throw err
  }
  return { jobs, store, workers, stress, stop }
}

/** The process's checkout manager: the bot's token goes only to the Gitea it talks to. */
function checkoutManager(
  config: Config,
  file: Config['file'],
  giteaUrl: string,
  log: Logger,
): CheckoutManager {
  const c = file.daemon.checkouts
  return new CheckoutManager({
    root: resolve(c.dir ?? join(config.env.UW_DATA_DIR, 'checkouts')),
    allowedOrigins: [giteaUrl],
    token: () => config.env.GITEA_TOKEN,
    diskBudgetBytes: c.diskBudgetBytes,
    keepFailedMs: c.keepFailedMinutes * 60_000,
    workspaceIdleMs: c.issueWorkspaceIdleHours * 3600_000,
    toolConfig: file.toolSettings,
    log: log.child({ component: 'checkouts' }),
  })
}

function redisPassword(url: string): string | undefined {
  try {
    return parseRedisUrl(url).password
  } catch {
    return undefined
  }
}
