import { z } from 'zod'
import { Secret } from '../config/secret.js'
import { ENV_NAME, readTokenEnv, type TokenEnvRead } from '../config/token-env.js'

const EnvName = z.string().regex(ENV_NAME, 'an environment variable name such as UW_TELEMETRY_TOKEN')

/**
 * `telemetry.sink`: where the stream is forwarded (docs/TELEMETRY.md, "Forwarding to a sink"):
 * HTTP POSTs of JSON batches with a bearer token read from the environment.
 *
 * @example
 *   # uw.yaml
 *   telemetry:
 *     sink: { url: https://timmy.example/telemetry, tokenEnv: UW_SINK_TOKEN }
 */
export const TelemetrySinkConfig = z
  .object({
    /** http(s), without credentials: the token travels only in the Authorization header. */
    url: z
      .url({ protocol: /^https?$/, message: 'an http:// or https:// URL' })
      .refine((u) => !URL.canParse(u) || (!new URL(u).username && !new URL(u).password), {
        message: 'a URL without user or password: name the token with sink.tokenEnv',
      }),
    /** The environment variable holding the sink's bearer token (required). */
    tokenEnv: EnvName,
    /** Filled in by `loadConfig` from `tokenEnv`, or given by a library caller. */
    token: z
      .instanceof(Secret, { message: 'no token here: name its environment variable with sink.tokenEnv' })
      .optional(),
    /** Most events in one POST. */
    batchSize: z.number().int().min(1).max(5000).default(200),
    /**
     * How long a batch that is not full waits for more events before it is sent. 0: send what is
     * there at once (events still batch up while a POST is in flight).
     */
    maxBatchWaitMs: z.number().int().min(0).max(10_000).default(0),
    /** A POST without an answer after this long counts as a failure (and is sent again). */
    timeoutMs: z.number().int().min(100).max(120_000).default(5_000),
    /** Backoff after a failure: doubles from retryMinMs up to retryMaxMs (full jitter). */
    retryMinMs: z.number().int().min(10).max(60_000).default(250),
    retryMaxMs: z.number().int().min(100).max(3_600_000).default(30_000),
    /** The wait after a refusal that retrying soon cannot fix (a 4xx other than 408, 409, 429). */
    rejectedRetryMs: z.number().int().min(1000).max(3_600_000).default(60_000),
    /** How long the forwarder's lease lives without renewal: a dead holder is replaced after this. */
    leaseMs: z.number().int().min(1000).max(600_000).default(15_000),
  })
  .strict()
  .refine((s) => s.retryMaxMs >= s.retryMinMs, {
    message: 'retryMaxMs at least retryMinMs',
    path: ['retryMaxMs'],
  })
export type TelemetrySinkConfig = z.infer<typeof TelemetrySinkConfig>

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
    tokenEnv: EnvName.optional(),
    /** Filled in by `loadConfig` from `tokenEnv`, or given by a library caller. */
    token: z
      .instanceof(Secret, { message: 'no token here: name its environment variable with tokenEnv' })
      .optional(),
    /** A subscriber with nothing to receive gets a keepalive comment this often. */
    keepaliveMs: z.number().int().min(100).max(120_000).default(15_000),
    /** Forwarding to the sovereign's sink; unset: no forwarding. */
    sink: TelemetrySinkConfig.optional(),
  })
  .strict()
export type TelemetryConfig = z.infer<typeof TelemetryConfig>

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null

/**
 * Fills `telemetry.token` and `telemetry.sink.token` from the variables `tokenEnv` and
 * `sink.tokenEnv` name, before the file is parsed (a YAML file cannot hold a `Secret`). A named
 * variable that is unset or short is a problem.
 *
 * @example
 *   readTelemetryEnv({ telemetry: { tokenEnv: 'UW_TELEMETRY_TOKEN' } }, process.env)
 */
export function readTelemetryEnv(input: unknown, env: Record<string, string | undefined>): TokenEnvRead {
  const stream = readTokenEnv(input, env, 'telemetry', "the stream's bearer token")
  const filled = stream.input
  if (!isObject(filled) || !isObject(filled.telemetry) || !isObject(filled.telemetry.sink)) return stream
  const section = filled.telemetry
  const sink = readTokenEnv({ sink: section.sink }, env, 'sink', "the sink's bearer token")
  return {
    input: { ...filled, telemetry: { ...section, sink: (sink.input as { sink: unknown }).sink } },
    problems: [...stream.problems, ...sink.problems.map((p) => ({ ...p, path: `telemetry.${p.path}` }))],
    secrets: [...stream.secrets, ...sink.secrets],
  }
}
