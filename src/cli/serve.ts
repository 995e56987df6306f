import { loadConfig, type Config } from '../config/index.js'
import { sandboxSecret } from '../daemon/sandbox-secret.js'
import { startServices } from '../daemon/start-services.js'
import { createLogger, type Logger } from '../logger.js'
import { UsageError, type CliCommand } from './cli-command.js'
import { fetchBotLogin, probeGitea } from './gitea-bootstrap.js'

/** Login the bot uses in sandbox mode, where there is no Gitea user to ask. */
const SANDBOX_BOT_LOGIN = 'uni-wizard'

/**
 * Sandbox mode (no GITEA_URL): without WEBHOOK_SECRET, use the persisted generated secret.
 * With GITEA_URL the config already refuses to start without a secret.
 */
function withWebhookSecret(config: Config, log: Logger): Config {
  if (config.env.GITEA_URL || config.env.WEBHOOK_SECRET.length > 0) return config
  const secret = sandboxSecret(config.env.UW_DATA_DIR)
  log.warn(
    { secretFile: `${config.env.UW_DATA_DIR}/sandbox-webhook-secret` },
    'sandbox mode: no GITEA_URL; using the generated webhook secret',
  )
  return { ...config, env: { ...config.env, WEBHOOK_SECRET: [secret] } }
}

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

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'Run the bot: webhook ingress (and an embedded Redis when REDIS_URL is unset)',
  usage: [
    'usage: uni-wizard serve',
    '',
    'Serves POST /webhooks/gitea, GET /health, GET /ready and GET /metrics on HOST:PORT.',
    'Without REDIS_URL it starts redis-server under <UW_DATA_DIR>/redis (AOF on, noeviction)',
    'and stops it on exit. Without GITEA_URL it runs in sandbox mode. Configuration comes from',
    'the environment (see .env.example) and the optional YAML file at UW_CONFIG.',
    'Stops cleanly on SIGINT or SIGTERM.',
  ].join('\n'),
  async run(argv) {
    if (argv.length > 0) throw new UsageError(`unexpected argument "${argv[0]}"`)
    const loaded = loadConfig(process.env)
    const log = createLogger({ level: loaded.env.LOG_LEVEL })
    const config = withWebhookSecret(loaded, log)
    const { GITEA_URL: giteaUrl, GITEA_TOKEN: token, BOT_LOGIN: botLogin } = config.env

    const services = await startServices(config, log, {
      resolveBotLogin: async () =>
        botLogin ?? (giteaUrl ? fetchBotLogin(giteaUrl, token) : SANDBOX_BOT_LOGIN),
      checkGitea: giteaUrl ? () => probeGitea(giteaUrl, token) : async () => undefined,
    })
    const signal = await waitForSignal()
    log.info({ signal }, 'shutting down')
    // A second signal while stopping means "now".
    const force = () => process.exit(1)
    process.once('SIGINT', force)
    process.once('SIGTERM', force)
    await services.stop()
    log.info('stopped')
    process.off('SIGINT', force)
    process.off('SIGTERM', force)
    return 0
  },
}
