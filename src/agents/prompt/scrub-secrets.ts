import { createRedactor } from '../../harness/redactor.js'

/**
 * A function that removes every configured secret from text, with the harness's redactor: the
 * values, their URL- and base64-encoded forms, any run of 12 or more of their characters, base64
 * runs that decode to one, and token, key and password patterns. Build it once per prompt.
 *
 * @example
 *   const scrub = secretScrubber([giteaToken, ...agentKeys(houses)])
 *   scrub(`token ${giteaToken}`) // 'token [redacted]'
 */
export function secretScrubber(secrets: readonly (string | undefined)[]): (text: string) => string {
  return createRedactor(secrets)
}

/**
 * Removes every configured secret (and its encoded forms) from one text.
 *
 * @example
 *   scrubSecrets('key: hunter2-long-secret', ['hunter2-long-secret']) // 'key: [redacted]'
 */
export function scrubSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  return createRedactor(secrets)(text)
}
