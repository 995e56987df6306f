import { z } from 'zod'
import { Secret } from '../config/secret.js'

/**
 * The design's house roles: `archivist` analyses and answers, `artificer` implements and proves,
 * `sovereign` reviews and has the final word, `tempo-and-dispatch` triages, routes and reports.
 */
export const HouseRole = z.enum(['archivist', 'artificer', 'sovereign', 'tempo-and-dispatch'], {
  message: 'one of archivist, artificer, sovereign, tempo-and-dispatch',
})
export type HouseRole = z.infer<typeof HouseRole>

/** An environment variable's name, as `keyEnv` and `${NAME}` references give it. */
export const EnvName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name such as HERMES_API_KEY')

/** A `${NAME}` reference left in a value: the file was not read through `loadConfig`. */
export const ENV_REFERENCE = /\$\{([^}]*)\}/

/**
 * An agent's endpoint: an http(s) URL without credentials in it (a key in a URL ends up in logs
 * and messages; it belongs in `keyEnv` or `auth_token`).
 */
export const AgentEndpoint = z
  .string()
  .refine((s) => !ENV_REFERENCE.test(s), {
    message: 'a URL; its ${NAME} reference was not read from the environment (loadConfig does that)',
  })
  .pipe(z.url({ protocol: /^https?$/, message: 'an http(s) URL such as http://127.0.0.1:8642' }))
  .refine(
    (s) => {
      const u = new URL(s)
      return u.username === '' && u.password === ''
    },
    { message: 'a URL without user or password in it (give the key with keyEnv or auth_token)' },
  )

const wholeNumber = (min: number, max: number) => {
  const message = `a whole number from ${min} to ${max}`
  return z.number({ message }).int(message).min(min, message).max(max, message)
}

/** Limits of one house's agent; each has a default. */
export const AgentLimitsInput = z
  .object({
    /** Model turns (openai loop) or tool calls (hermes) one job may take. */
    maxTurns: wholeNumber(1, 1000).default(30),
    /** Wall time of one job's run, in seconds. */
    wallTimeSeconds: wholeNumber(1, 86_400).default(1800),
    /** Tokens (input + output) one job may use. */
    maxTokensPerJob: wholeNumber(1, 1e9).default(200_000),
    /** Tokens the house's agent may use per day (UTC), over all its jobs. */
    dailyTokenBudget: wholeNumber(1, 1e12).default(2_000_000),
  })
  .strict()
export type AgentLimitsInput = z.infer<typeof AgentLimitsInput>

/**
 * A house's `agent:` as written in YAML. `key` is never written in YAML: `loadConfig` fills it in
 * from the variable `keyEnv` names (a YAML file cannot hold a `Secret`).
 */
export const AgentInput = z
  .object({
    /** `hermes`: a Hermes Agent API server; `openai`: an OpenAI-compatible chat endpoint with tool calling. */
    backend: z.enum(['hermes', 'openai'], { message: 'one of hermes, openai' }),
    endpoint: AgentEndpoint,
    /** The environment variable holding the key (the variable's name, never the key). */
    keyEnv: EnvName.optional(),
    /** The model to ask for, where the backend honours one. */
    model: z.string().min(1).max(200).optional(),
    limits: AgentLimitsInput.prefault({}),
    /** Filled in by `loadConfig` from `keyEnv`, or given by a library caller. */
    key: z
      .instanceof(Secret, { message: 'no key here: name its environment variable with keyEnv' })
      .optional(),
  })
  .strict()
export type AgentInput = z.input<typeof AgentInput>

/** A house's agent, resolved: the backend, where it is, its key (read at start-up), model and limits. */
export interface ResolvedAgent {
  backend: 'hermes' | 'openai'
  endpoint: string
  /** Prints, logs and serialises as `[hidden]`; `key.reveal()` for the request header. */
  key?: Secret
  /** Where the key came from (`TIMMY_TOKEN`), for messages; never the value. */
  keyEnv?: string
  model?: string
  limits: AgentLimitsInput
}

/**
 * The design's `auth_token`: a `${NAME}` reference (interpolated by `loadConfig`), a literal key
 * (works, but a key in a file is easier to leak than one in the environment), or a `Secret`.
 */
export const AuthToken = z
  .union([
    z
      .string()
      .min(1)
      .refine((s) => !ENV_REFERENCE.test(s), {
        message: 'a key; its ${NAME} reference was not read from the environment (loadConfig does that)',
      }),
    z.instanceof(Secret),
  ])
  .transform((v) => (v instanceof Secret ? v : new Secret(v)))

/** The house fields that decide its agent: the full `agent:` form, or the design's `endpoint` and `auth_token`. */
export interface AgentFields {
  agent?: z.infer<typeof AgentInput>
  endpoint?: string
  auth_token?: Secret
}

/**
 * The house's agent, if it has one: `agent:` as given, or the design's shape (`endpoint` with an
 * optional `auth_token`) as the hermes backend with default limits. A `keyEnv` whose key
 * `loadConfig` did not fill in (a library caller's config) is read from `env` now.
 *
 * @example
 *   resolveAgent({ endpoint: 'http://127.0.0.1:8642', auth_token: new Secret('k') })?.backend // 'hermes'
 */
export function resolveAgent(
  fields: AgentFields,
  env: Record<string, string | undefined> = process.env,
): ResolvedAgent | undefined {
  if (fields.agent) {
    const { key, keyEnv, model, ...rest } = fields.agent
    const value = key ?? (keyEnv && env[keyEnv] ? new Secret(env[keyEnv]) : undefined)
    return {
      ...rest,
      ...(value ? { key: value } : {}),
      ...(keyEnv ? { keyEnv } : {}),
      ...(model ? { model } : {}),
    }
  }
  if (fields.endpoint === undefined) return undefined
  return {
    backend: 'hermes',
    endpoint: fields.endpoint,
    ...(fields.auth_token ? { key: fields.auth_token } : {}),
    limits: AgentLimitsInput.parse({}),
  }
}

/**
 * The agents' keys as plain values, for the redactor's secret list (tool output, events and
 * prompts must never hold them).
 *
 * @example
 *   createRedactor([...agentKeys(Object.values(resolveHouses(config.file.houses))), GITEA_TOKEN])
 */
export function agentKeys(houses: readonly { agent?: ResolvedAgent }[]): string[] {
  return houses.flatMap((h) => (h.agent?.key ? [h.agent.key.reveal()] : []))
}
