import { z } from 'zod'
import { Secret } from '../config/secret.js'
import { ENV_NAME, readTokenEnv, type TokenEnvRead } from '../config/token-env.js'

/**
 * The `telemetry:` section of the YAML config (docs/TELEMETRY.md): the stream `<prefix>:telemetry`
 * every job, agent and heartbeat event is appended to, how long it is kept, and the token of
 * `GET /telemetry/stream`.
 *
 * @example
 *   # uw.yaml
 *   telemetry:
 *     maxEvents: 200000
 *     maxAgeHours: 72
 *     tokenEnv: UW_TELEMETRY_TOKEN
 */
export const TelemetryConfig = z
  .object({
    /** Off: nothing is appended (the endpoint still answers, with what is retained). */
    enabled: z.boolean().default(true),
    /** The stream is trimmed to about this many events at each append (`XADD MAXLEN ~`). */
    maxEvents: z.number().int().min(100).default(100_000),
    /** Events older than this are trimmed at each append (`XTRIM MINID ~`). */
    maxAgeHours: z
      .number()
      .positive()
      .default(7 * 24),
    /**
     * How long an emission key is remembered, so a repeated step (a retried job attempt, a report
     * sent again, a redelivered run) appends its event once.
     */
    onceTtlSeconds: z
      .number()
      .int()
      .min(60)
      .default(48 * 3600),
    /**
     * The environment variable holding the bearer token of `GET /telemetry/stream`. Unset: the
     * endpoint is off (404).
     */
    tokenEnv: z
      .string()
      .regex(ENV_NAME, 'an environment variable name such as UW_TELEMETRY_TOKEN')
      .optional(),
    /** Filled in by `loadConfig` from `tokenEnv`, or given by a library caller. */
    token: z
      .instanceof(Secret, { message: 'no token here: name its environment variable with tokenEnv' })
      .optional(),
    /** A subscriber with nothing to receive gets a keepalive comment this often. */
    keepaliveMs: z.number().int().min(100).max(120_000).default(15_000),
  })
  .strict()
export type TelemetryConfig = z.infer<typeof TelemetryConfig>

/**
 * Fills `telemetry.token` from the variable `telemetry.tokenEnv` names, before the file is parsed
 * (a YAML file cannot hold a `Secret`). A named variable that is unset or short is a problem.
 *
 * @example
 *   readTelemetryEnv({ telemetry: { tokenEnv: 'UW_TELEMETRY_TOKEN' } }, process.env)
 */
export function readTelemetryEnv(input: unknown, env: Record<string, string | undefined>): TokenEnvRead {
  return readTokenEnv(input, env, 'telemetry', "the stream's bearer token")
}
