import { AlertBridge } from '../alerts/alert-bridge.js'
import { AlertGroupStore } from '../alerts/alert-group-store.js'
import type { Config } from '../config/index.js'
import type { GiteaPort } from '../gitea/port.js'
import type { Logger } from '../logger.js'
import type { RedisClient } from '../queue/connection.js'
import type { AlertReceiverDeps } from '../server/alertmanager-receiver.js'

/**
 * The Alertmanager receiver's parts when config `alerts:` is set (undefined otherwise: the route
 * answers 404). Its group records and locks live on `redis`, its issues go through `port`, which
 * acts as `botLogin`.
 *
 * @example
 *   createApp({ ..., alerts: alertReceiver(config, log, connection, prefix, port, botLogin) })
 */
export function alertReceiver(
  config: Config,
  log: Logger,
  redis: RedisClient,
  prefix: string,
  port: GiteaPort | undefined,
  botLogin: string,
): AlertReceiverDeps | undefined {
  const alerts = config.file.alerts
  if (!alerts) return undefined
  if (!port) throw new Error('the Alertmanager receiver (alerts:) needs a Gitea port')
  const bridge = new AlertBridge({
    port,
    store: new AlertGroupStore({ redis, prefix }),
    repo: alerts.repo,
    botLogin,
    labels: alerts.labels,
    log: log.child({ component: 'alerts' }),
    dryRun: config.file.dryRun,
  })
  return { token: alerts.token, maxBodyBytes: alerts.maxBodyBytes, bridge }
}
