import { pino, type Logger, type LoggerOptions } from 'pino'

export type { Logger }

/**
 * Paths pino censors in every log line. Secrets are redacted by configuration, not by hope:
 * anything that carries a token, secret, signature or credential is listed here.
 */
export const REDACT_PATHS = [
  'token',
  'secret',
  'secrets',
  'password',
  'authorization',
  'webhookSecrets',
  '*.token',
  '*.secret',
  '*.secrets',
  '*.password',
  '*.authorization',
  '*.webhookSecrets',
  '*.GITEA_TOKEN',
  '*.WEBHOOK_SECRET',
  '*.REDIS_URL',
  'headers.authorization',
  'headers["x-gitea-signature"]',
  'headers["x-hub-signature-256"]',
  'headers["x-forgejo-signature"]',
  'req.headers.authorization',
  'err.config.headers.Authorization',
  'env.GITEA_TOKEN',
  'env.WEBHOOK_SECRET',
  'env.REDIS_URL',
]

/**
 * The one root logger, made at start-up and passed down.
 *
 * @example
 *   const log = createLogger({ level: 'info' })
 *   log.child({ deliveryId }).info('accepted')
 */
export function createLogger(options: LoggerOptions & { destination?: NodeJS.WritableStream } = {}): Logger {
  const { destination, ...rest } = options
  const opts: LoggerOptions = {
    level: 'info',
    base: { service: 'uni-wizard' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    ...rest,
  }
  return destination ? pino(opts, destination) : pino(opts)
}
