import { z } from 'zod'
import { Secret } from '../config/secret.js'

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
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name such as UW_TELEMETRY_TOKEN')
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

/** Shortest bearer token accepted: a guessable one would open the stream to anyone. */
export const MIN_TOKEN_CHARS = 16

/**
 * Fills `telemetry.token` from the variable `telemetry.tokenEnv` names, before the file is parsed
 * (a YAML file cannot hold a `Secret`). A named variable that is unset or short is a problem.
 *
 * @example
 *   readTelemetryEnv({ telemetry: { tokenEnv: 'UW_TELEMETRY_TOKEN' } }, process.env)
 */
export function readTelemetryEnv(
  input: unknown,
  env: Record<string, string | undefined>,
): { input: unknown; problems: { path: string; expected: string; found: string }[]; secrets: string[] } {
  if (typeof input !== 'object' || input === null) return { input, problems: [], secrets: [] }
  const section = (input as Record<string, unknown>).telemetry
  if (typeof section !== 'object' || section === null) return { input, problems: [], secrets: [] }
  const { tokenEnv } = section as Record<string, unknown>
  if (typeof tokenEnv !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(tokenEnv))
    return { input, problems: [], secrets: [] }
  const value = env[tokenEnv]?.trim()
  if (!value || value.length < MIN_TOKEN_CHARS)
    return {
      input,
      problems: [
        {
          path: 'telemetry.tokenEnv',
          expected: `environment variable ${tokenEnv} to hold the stream's bearer token (${MIN_TOKEN_CHARS}+ characters)`,
          found:
            value === undefined ? `nothing (${tokenEnv} is not set)` : `${tokenEnv} set to a shorter value`,
        },
      ],
      secrets: value ? [value] : [],
    }
  return {
    input: { ...input, telemetry: { ...section, token: new Secret(value) } },
    problems: [],
    secrets: [value],
  }
}
