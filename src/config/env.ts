import { isSecretPath } from './config-error.js'
import { z } from 'zod'
import { parseRedisUrl } from '../queue/redis-url.js'

const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])

const optionalText = z
  .string()
  .transform((s) => s.trim())
  .optional()
  .transform((s) => (s ? s : undefined))

/** The environment variables uni-wizard reads. Documented in .env.example and the README. */
export const Env = z.object({
  PORT: z.coerce
    .number({ message: 'an integer port 1-65535' })
    .int('an integer port 1-65535')
    .min(1, 'an integer port 1-65535')
    .max(65535, 'an integer port 1-65535')
    .default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  WEBHOOK_SECRET: z
    .string()
    .optional()
    .transform((s) =>
      (s ?? '')
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    ),
  GITEA_URL: optionalText.pipe(z.url('an http(s) URL such as https://gitea.example.com').optional()),
  GITEA_TOKEN: optionalText,
  REDIS_URL: optionalText.pipe(
    z
      .string()
      .superRefine((url, ctx) => {
        try {
          parseRedisUrl(url)
        } catch (err) {
          // The reason only, never the URL: it may carry a password.
          ctx.addIssue({
            code: 'custom',
            message: `a redis://, rediss://, redis+sentinel://h:26379,h2:26379/master or redis+cluster://h:6379,h2:6379 URL (${(err as Error).message})`,
          })
        }
      })
      .optional(),
  ),
  UW_CONFIG: optionalText,
  UW_DATA_DIR: z.string().min(1).default('.data'),
  /** Prefix of every Redis key; one `{hash tag}` in it. Several bots can share a Redis with different prefixes. */
  UW_PREFIX: z
    .string()
    .regex(/^[^{}]*\{[^{}]+\}[^{}]*$/, 'a key prefix with exactly one {hash tag}, e.g. {uw}')
    .default('{uw}'),
  LOG_LEVEL: LogLevel.default('info'),
  BOT_LOGIN: optionalText,
})
export type Env = z.infer<typeof Env>

/** Cross-variable rules, checked on the raw values so they are reported alongside type errors. */
export function crossCheckEnv(
  source: Record<string, string | undefined>,
): { path: string; expected: string }[] {
  const problems: { path: string; expected: string }[] = []
  const set = (name: string) => Boolean(source[name]?.trim())
  if (set('GITEA_URL') && !set('GITEA_TOKEN'))
    problems.push({ path: 'GITEA_TOKEN', expected: 'an API token when GITEA_URL is set' })
  const secrets = (source.WEBHOOK_SECRET ?? '').split(',').filter((x) => x.trim())
  if (set('GITEA_URL') && secrets.length === 0) {
    problems.push({
      path: 'WEBHOOK_SECRET',
      expected: 'at least one webhook secret (comma-separated for rotation) when GITEA_URL is set',
    })
  }
  return problems
}

/** Names whose values are secrets and must never be echoed back. */
export const SECRET_ENV = new Set(['WEBHOOK_SECRET', 'GITEA_TOKEN', 'REDIS_URL'])

/**
 * Whether an environment variable's value must never be echoed: a known secret, or a name that
 * looks like one (`*_TOKEN`, `*_PASSWORD`, `*_SECRET`...).
 *
 * @example
 *   isSecretEnv('REDIS_URL') // true (it may carry a password)
 */
export function isSecretEnv(name: string): boolean {
  return SECRET_ENV.has(name) || isSecretPath(name)
}
