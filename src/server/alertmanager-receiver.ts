import type { Context } from 'hono'
import { AlertmanagerNotification } from '../alerts/alertmanager-notification.js'
import type { BridgeOutcome } from '../alerts/alert-bridge.js'
import type { Secret } from '../config/secret.js'
import type { Logger } from '../logger.js'
import { bearerCheck } from './bearer-token.js'
import { BodyTooLargeError, readBody } from './read-body.js'

/** What `POST /alerts/alertmanager` needs (config `alerts:`); without it the route answers 404. */
export interface AlertReceiverDeps {
  /** The bearer token Alertmanager sends (`alerts.tokenEnv`). */
  token: Secret
  maxBodyBytes: number
  /** Applies one notification to its group's issue; throws when Gitea or Redis failed. */
  bridge: { receive(n: AlertmanagerNotification): Promise<BridgeOutcome> }
}

/**
 * `POST /alerts/alertmanager`: Alertmanager's webhook receiver (docs/OPERATIONS.md, "Alerts into
 * Gitea"). Bearer token, then the body parsed against the webhook format version 4, then the
 * notification applied to its group's issue before answering 200. A bad request is a 4xx with
 * the reason and changes nothing; a failure to apply is a 503, which Alertmanager retries (a
 * 4xx it would not), and nothing applied before the failure is applied again.
 *
 * @example
 *   app.post('/alerts/alertmanager', alertmanagerReceiver(deps.alerts, log))
 */
export function alertmanagerReceiver(
  deps: AlertReceiverDeps | undefined,
  log: Logger,
): (c: Context) => Promise<Response> {
  return async (c) => {
    if (!deps)
      return c.json({ error: 'the Alertmanager receiver is off: configure the alerts: section' }, 404)
    const auth = bearerCheck(c.req.header('authorization'), deps.token)
    if (auth !== 'ok') {
      c.header('WWW-Authenticate', 'Bearer realm="alerts"')
      const error =
        auth === 'wrong' ? 'wrong bearer token' : 'an Authorization: Bearer <alerts token> header is required'
      log.warn({ status: 401 }, `alert notification refused: ${error}`)
      return c.json({ error }, 401)
    }
    let raw: Buffer
    try {
      raw = await readBody(c.req.raw.body, deps.maxBodyBytes)
    } catch (err) {
      if (err instanceof BodyTooLargeError) return c.json({ error: err.message }, 413)
      throw err
    }
    let json: unknown
    try {
      json = JSON.parse(raw.toString('utf8'))
    } catch {
      return c.json({ error: 'the body is not JSON' }, 400)
    }
    const parsed = AlertmanagerNotification.safeParse(json)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      const error = `not an Alertmanager webhook notification (version 4): ${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'invalid'}`
      log.warn({ status: 400 }, error)
      return c.json({ error }, 400)
    }
    try {
      const outcome = await deps.bridge.receive(parsed.data)
      return c.json(outcome, 200)
    } catch (err) {
      log.error(
        { err, groupKey: parsed.data.groupKey },
        'alert notification not applied; Alertmanager will retry',
      )
      return c.json({ error: `not applied, retry: ${err instanceof Error ? err.message : String(err)}` }, 503)
    }
  }
}
