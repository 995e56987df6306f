import { parseArgs } from 'node:util'
import { loadConfig, type Config } from '../config/index.js'
import { sandboxSecret } from '../daemon/sandbox-secret.js'
import { ALL_PIECES, startServices, type ServicePieces } from '../daemon/start-services.js'
import { GiteaJsAdapter } from '../gitea/gitea-js-adapter.js'
import type { GiteaPort } from '../gitea/port.js'
import { resolveHouses } from '../houses/house-policy.js'
import { settleWithin } from '../settle-within.js'
import { createLogger, type Logger } from '../logger.js'
import { SANDBOX_LOGINS, startSandbox, type RunningSandbox } from '../sandbox/start-sandbox.js'
import { seedSandboxWorkspace } from '../sandbox/seed-workspace.js'
import { sandboxDashboard, sandboxLoginLink } from '../sandbox/sandbox-dashboard.js'
import { defaultPublicUrl } from '../dashboard/dashboard-from-config.js'
import { defaultDaemonWorkspace } from '../workers/house-workspaces.js'
import { UsageError, type CliCommand } from './cli-command.js'
import { usage } from './cli-setup.js'

/**
 * Sandbox mode (no GITEA_URL): without WEBHOOK_SECRET, use the persisted generated secret; a
 * houses config without sovereigns gets the sandbox sovereign, so `/approve` can be tried.
 */
function sandboxConfig(config: Config, log: Logger): Config {
  if (config.env.GITEA_URL) return config
  let env = config.env
  if (env.WEBHOOK_SECRET.length === 0) {
    const secret = sandboxSecret(env.UW_DATA_DIR)
    log.warn(
      { secretFile: `${env.UW_DATA_DIR}/sandbox-webhook-secret` },
      'sandbox mode: no GITEA_URL; using the generated webhook secret',
    )
    env = { ...env, WEBHOOK_SECRET: [secret] }
  }
  const houses = { ...config.file.houses }
  for (const [name, policy] of Object.entries(resolveHouses(config.file.houses))) {
    if (policy.sovereigns.length === 0)
      houses[name] = { ...houses[name], sovereigns: [SANDBOX_LOGINS.sovereign] }
  }
  return { env, file: { ...config.file, houses } }
}

/** The sandbox's houses: each without an agent gets the scripted one (allegro only dispatches). */
function sandboxAgents(file: Config['file'], agentUrl: string | undefined): Config['file'] {
  if (!agentUrl) return file
  const houses = { ...file.houses }
  for (const [name, policy] of Object.entries(resolveHouses(file.houses))) {
    if (policy.agent || policy.readOnly) continue
    houses[name] = {
      ...houses[name],
      agent: {
        backend: 'openai',
        endpoint: agentUrl,
        model: 'sandbox-demo',
        limits: {
          maxTurns: 10,
          wallTimeSeconds: 300,
          maxTokensPerJob: 100_000,
          dailyTokenBudget: 10_000_000,
        },
      },
    }
  }
  return {
    ...file,
    houses,
    daemon: { ...file.daemon, workers: { ...file.daemon.workers, proofCommands: 'same-user' } },
  }
}

/** Past the grace period, how long stopping may take before the process exits anyway. */
export const SHUTDOWN_MARGIN_MS = 3_000
/** The exit code of a stop that was not clean: running jobs left to be taken over, or a step that timed out. */
export const EXIT_UNCLEAN_STOP = 1

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      resolve(signal)
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
}

function sandboxHelp(sandbox: RunningSandbox, httpUrl: string, dashboardLink: string): string {
  const { info } = sandbox
  const issueUrl = `${info.giteaUrl}/${info.repo.owner}/${info.repo.name}/issues/${info.issue}`
  return [
    '',
    'uni-wizard sandbox is running (no GITEA_URL: a local Gitea double stands in).',
    `  bot:        ${httpUrl}  (webhook ${info.webhookUrl})`,
    `  gitea:      ${info.giteaUrl}  repo ${info.repo.owner}/${info.repo.name}, issue #${info.issue} (${issueUrl})`,
    `  people:     ${info.users.writer.login} (writer), ${info.users.sovereign.login} (sovereign), ${info.users.reader.login} (reader)`,
    `  dashboard:  ${dashboardLink}`,
    `              (one visit logs you in as ${info.users.writer.login}; or "Log in with Gitea" on its login page and pick anyone)`,
    '',
    'Try it from another shell in this directory:',
    `  npx uni-wizard sandbox comment ${info.issue} "/run git_status @bezalel"`,
    `  npx uni-wizard sandbox comment ${info.issue} "/run file_list @allegro"`,
    `  npx uni-wizard sandbox comment ${info.issue} "/houses"`,
    `  npx uni-wizard sandbox comment ${info.issue} "/ask what is in the README?"`,
    `  npx uni-wizard sandbox comment ${info.issue} "/implement add a changelog"   # opens a pull request`,
    `  npx uni-wizard sandbox comment ${info.issue} "/run git_status @timmy"   # timmy needs approval:`,
    `  npx uni-wizard sandbox comment ${info.issue} "/approve <job>" --as ${info.users.sovereign.login}`,
    '',
  ].join('\n')
}

/** Everything `serve` and `worker` share: config, Gitea port (or sandbox), services, signals. */
export async function runDaemon(pieces: ServicePieces): Promise<number> {
  const loaded = loadConfig(process.env)
  const log = createLogger({ level: loaded.env.LOG_LEVEL })
  const config = sandboxConfig(loaded, log)
  const { GITEA_URL: giteaUrl, GITEA_TOKEN: token, BOT_LOGIN: botLogin, HOST, PORT } = config.env

  let sandbox: RunningSandbox | undefined
  let port: GiteaPort
  if (giteaUrl) {
    port = new GiteaJsAdapter({ baseUrl: giteaUrl, token: token ?? '', logger: log })
  } else {
    if (!pieces.ingress)
      throw new UsageError(
        'without GITEA_URL (sandbox mode) every piece runs in one process; drop the --no-*/--only flags',
      )
    const local = HOST === '0.0.0.0' || HOST === '::' ? '127.0.0.1' : HOST
    seedSandboxWorkspace(defaultDaemonWorkspace(config.env.UW_DATA_DIR))
    sandbox = await startSandbox({
      dataDir: config.env.UW_DATA_DIR,
      webhookUrl: `http://${local}:${PORT}/webhooks/gitea`,
      webhookSecret: config.env.WEBHOOK_SECRET[0] ?? '',
      port: PORT + 1,
    })
    port = new GiteaJsAdapter({
      baseUrl: sandbox.info.giteaUrl,
      token: sandbox.info.users.bot.token,
      logger: log,
    })
  }

  // In sandbox mode the bot's token is the double's: as GITEA_TOKEN it is one of the secrets every
  // harness and log line redacts, like a configured token. Houses without an agent get the
  // sandbox's scripted one, and the repository's proof commands run (its only contributor is you).
  const running = sandbox
    ? {
        env: { ...config.env, GITEA_TOKEN: sandbox.info.users.bot.token },
        file: sandboxDashboard(
          sandboxAgents(config.file, sandbox.info.agentUrl),
          sandbox,
          defaultPublicUrl(HOST, PORT),
        ),
      }
    : config
  let services
  try {
    services = await startServices(running, log, {
      resolveBotLogin: async () => botLogin ?? (await port.getCurrentUser()).login,
      // A cheap authenticated call: proves Gitea answers and the token is good.
      checkGitea: async () => void (await port.getCurrentUser()),
      port,
      pieces,
      prefix: config.env.UW_PREFIX,
      // The sandbox's houses check out demo/sandbox from the double, like a real bot its Gitea's repos.
      giteaUrl: giteaUrl ?? sandbox?.info.giteaUrl,
    })
  } catch (err) {
    await sandbox?.stop()
    throw err
  }
  if (sandbox) {
    const dashboard = running.file.dashboard
    const link = await sandboxLoginLink({
      redisUrl: services.redisUrl,
      prefix: config.env.UW_PREFIX,
      url: `${dashboard.publicUrl ?? defaultPublicUrl(HOST, PORT)}${dashboard.basePath}`,
    })
    process.stdout.write(sandboxHelp(sandbox, services.httpUrl, link))
  }
  const signal = await waitForSignal()
  const graceMs = running.file.daemon.workers.shutdownGraceMs
  log.info({ signal, graceMs }, 'shutting down')
  // A second signal while stopping means "now".
  const force = () => process.exit(1)
  process.once('SIGINT', force)
  process.once('SIGTERM', force)
  // Every step bounds its own wait; this is the backstop for one that does not.
  const deadlineMs = graceMs + SHUTDOWN_MARGIN_MS
  const outcome: { clean?: boolean } = {}
  await settleWithin(
    services.stop().then((clean) => void (outcome.clean = clean)),
    deadlineMs,
  )
  await settleWithin(sandbox?.stop() ?? Promise.resolve(), SHUTDOWN_MARGIN_MS)
  process.off('SIGINT', force)
  process.off('SIGTERM', force)
  if (outcome.clean === true) {
    log.info('stopped')
    return 0
  }
  log.error(
    {
      graceMs,
      reason:
        outcome.clean === undefined
          ? `shutdown did not finish within ${deadlineMs} ms`
          : 'a piece did not stop cleanly (see the warnings above; often Redis unreachable)',
    },
    'stopped uncleanly',
  )
  // What did not close (a connection retrying a Redis that is gone) would keep the process alive.
  process.exit(EXIT_UNCLEAN_STOP)
}

const PIECE_NAMES = ['ingress', 'router', 'reporter', 'workers'] as const

/**
 * `serve` flags to pieces: all by default; `--no-<piece>` drops one; `--only a,b` keeps only
 * those; `--houses a,b` limits the workers to those houses.
 *
 * @example
 *   piecesFromArgs(['--only', 'router,reporter']) // { ingress: false, router: true, reporter: true, workers: [] }
 */
export function piecesFromArgs(argv: string[]): ServicePieces {
  const { values, positionals } = usage(() =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'no-ingress': { type: 'boolean', default: false },
        'no-router': { type: 'boolean', default: false },
        'no-reporter': { type: 'boolean', default: false },
        'no-workers': { type: 'boolean', default: false },
        only: { type: 'string' },
        houses: { type: 'string' },
      },
    }),
  )
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`)
  let on = new Set<string>(PIECE_NAMES)
  if (values.only !== undefined) {
    const only = values.only
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
    const bad = only.filter((p) => !(PIECE_NAMES as readonly string[]).includes(p))
    if (bad.length > 0 || only.length === 0)
      throw new UsageError(`--only takes a list of ${PIECE_NAMES.join(', ')}; got "${values.only}"`)
    on = new Set(only)
  }
  for (const p of PIECE_NAMES) if (values[`no-${p}`]) on.delete(p)
  const houses = values.houses
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  const workers = !on.has('workers') ? [] : houses && houses.length > 0 ? houses : ALL_PIECES.workers
  if (on.size === 0) throw new UsageError('nothing to run: every piece was turned off')
  return { ingress: on.has('ingress'), router: on.has('router'), reporter: on.has('reporter'), workers }
}

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'Run the bot: ingress, router, reporter and every house worker (pieces can be split)',
  usage: [
    'usage: uni-wizard serve [--no-ingress] [--no-router] [--no-reporter] [--no-workers]',
    '                        [--only ingress,router,reporter,workers] [--houses a,b]',
    '',
    'By default runs everything in one process: POST /webhooks/gitea, GET /health, /ready and',
    '/metrics on HOST:PORT; the router (events -> effects); the reporter (ack comment edits);',
    'and a worker for every configured house. Flags split the pieces so they can run on separate',
    'machines against one REDIS_URL, e.g. `serve --only ingress,router` on the web host and',
    '`uni-wizard worker --house bezalel` on a build host.',
    '',
    'Without REDIS_URL it starts redis-server under <UW_DATA_DIR>/redis (AOF on, noeviction, a',
    'password generated once into <UW_DATA_DIR>/redis/password).',
    'Without GITEA_URL it runs a sandbox: a local Gitea double with a demo repository, and prints',
    'how to try the bot (see `uni-wizard sandbox --help`). Configuration comes from the',
    'environment (see .env.example) and the optional YAML file at UW_CONFIG.',
    'Stops cleanly on SIGINT or SIGTERM; running jobs get daemon.workers.shutdownGraceMs to finish.',
  ].join('\n'),
  run: (argv) => runDaemon(piecesFromArgs(argv)),
}

export const workerCommand: CliCommand = {
  name: 'worker',
  summary: 'Run house workers only: uni-wizard worker --house <name>|all',
  usage: [
    'usage: uni-wizard worker --house <name>[,<name>...]|all',
    '',
    'Runs workers for the named houses (or every configured house) against REDIS_URL, with each',
    "house's concurrency from the houses config. Each worker keeps a heartbeat (see /houses).",
    'On SIGTERM it stops taking jobs and lets running ones finish within',
    'daemon.workers.shutdownGraceMs, then exits: 0 after a clean stop, 1 when it could not stop',
    'cleanly (e.g. Redis unreachable; it still exits within the grace period + 3 s).',
    'Needs GITEA_URL (the gitea_* tools use it).',
  ].join('\n'),
  async run(argv) {
    const { values, positionals } = usage(() =>
      parseArgs({ args: argv, allowPositionals: true, options: { house: { type: 'string' } } }),
    )
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`)
    if (!values.house) throw new UsageError('name the house(s): --house <name>[,<name>...] or --house all')
    const list = values.house
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
    const workers = list.includes('all') ? 'all' : list
    return runDaemon({ ingress: false, router: false, reporter: false, workers })
  },
}
