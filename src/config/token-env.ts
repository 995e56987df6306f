import { Secret } from './secret.js'

/** Shortest bearer token accepted: a guessable one would open an endpoint to anyone. */
export const MIN_TOKEN_CHARS = 16

/** A name `tokenEnv` may hold. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** What reading a section's token gives: the input with `token` filled in, problems, values to scrub. */
export interface TokenEnvRead {
  input: unknown
  problems: { path: string; expected: string; found: string }[]
  secrets: string[]
}

/**
 * Fills `<section>.token` from the variable `<section>.tokenEnv` names, before the file is parsed
 * (a YAML file cannot hold a `Secret`). A named variable that is unset or short is a problem;
 * `what` says what the token opens, for that problem's text.
 *
 * @example
 *   readTokenEnv({ alerts: { tokenEnv: 'UW_ALERTS_TOKEN' } }, process.env, 'alerts', "the receiver's bearer token")
 */
export function readTokenEnv(
  input: unknown,
  env: Record<string, string | undefined>,
  section: string,
  what: string,
): TokenEnvRead {
  if (typeof input !== 'object' || input === null) return { input, problems: [], secrets: [] }
  const body = (input as Record<string, unknown>)[section]
  if (typeof body !== 'object' || body === null) return { input, problems: [], secrets: [] }
  const { tokenEnv } = body as Record<string, unknown>
  if (typeof tokenEnv !== 'string' || !ENV_NAME.test(tokenEnv)) return { input, problems: [], secrets: [] }
  const value = env[tokenEnv]?.trim()
  if (!value || value.length < MIN_TOKEN_CHARS)
    return {
      input,
      problems: [
        {
          path: `${section}.tokenEnv`,
          expected: `environment variable ${tokenEnv} to hold ${what} (${MIN_TOKEN_CHARS}+ characters)`,
          found:
            value === undefined ? `nothing (${tokenEnv} is not set)` : `${tokenEnv} set to a shorter value`,
        },
      ],
      secrets: value ? [value] : [],
    }
  return {
    input: { ...input, [section]: { ...body, token: new Secret(value) } },
    problems: [],
    secrets: [value],
  }
}
