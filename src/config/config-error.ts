import type { z } from 'zod'

/** One problem found while reading configuration: where, what was expected, what was found. */
export interface ConfigProblem {
  /** `env PORT` or `UW_CONFIG houses.ezra.mode`. */
  where: string
  expected: string
  found: string
}

/** Thrown when start-up configuration is invalid; its message lists every problem. */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.where}: expected ${p.expected}, found ${p.found}`).join('\n'),
    )
    this.name = 'ConfigError'
  }
}

/** What replaces a secret in a configuration error. */
const HIDDEN = '[hidden]'

// Setting names whose values are secrets: `auth_token`, `GITEA_TOKEN`, `webhookSecret`, `apiKey`,
// `password`, `Authorization`... Matched against each segment of a path.
const SECRET_NAME =
  /(?:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|authorization|^auth$|cookie)/i

/**
 * Whether a setting's value must never be echoed: one of its path segments names a secret.
 *
 * @example
 *   isSecretPath('houses.ezra.auth_token') // true
 */
export function isSecretPath(path: string): boolean {
  return path.split('.').some((segment) => SECRET_NAME.test(segment))
}

/**
 * Every string held under a secret-looking name in a parsed configuration (at any depth), so
 * messages that quote them can be scrubbed. Values shorter than 4 characters are left alone.
 */
export function secretValuesIn(input: unknown, underSecret = false, depth = 0): string[] {
  if (depth > 20) return []
  if (typeof input === 'string') return underSecret && input.length >= 4 ? [input] : []
  if (typeof input === 'number' && underSecret) return String(input).length >= 4 ? [String(input)] : []
  if (Array.isArray(input)) return input.flatMap((v) => secretValuesIn(v, underSecret, depth + 1))
  if (input !== null && typeof input === 'object')
    return Object.entries(input).flatMap(([k, v]) =>
      // `tokenEnv`, `keyEnv`: the name of the variable holding a secret, which may be shown.
      secretValuesIn(v, underSecret || (SECRET_NAME.test(k) && !/Env$/.test(k)), depth + 1),
    )
  return []
}

/**
 * Replaces every secret value inside the problems' text with `[hidden]`, and the password of any
 * URL: a zod message, a YAML error or a custom check may quote a value the path alone does not
 * mark as secret.
 */
export function scrubProblems(problems: ConfigProblem[], secrets: readonly string[]): ConfigProblem[] {
  const values = [...new Set(secrets)].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length)
  // A password in a URL (`http://user:pw@host`) is a secret wherever the URL is quoted.
  const scrub = (text: string) =>
    values
      .reduce((t, v) => t.split(v).join(HIDDEN), text)
      .replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@"]*:)[^\s/@"]+@/gi, `$1${HIDDEN}@`)
  return problems.map((p) => ({ where: scrub(p.where), expected: scrub(p.expected), found: scrub(p.found) }))
}

function describeFound(value: unknown, secret: boolean): string {
  if (value === undefined) return 'nothing (not set)'
  if (secret) return 'a value (hidden)'
  // An object or list shown whole still hides what sits under a secret-looking name.
  const text =
    typeof value === 'string'
      ? JSON.stringify(value)
      : (JSON.stringify(value, (k, v: unknown) => (k && SECRET_NAME.test(k) ? HIDDEN : v)) ?? String(value))
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = input
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<PropertyKey, unknown>)[key]
  }
  return cur
}

/**
 * Turns zod issues into problems, reading the offending value from the raw input. A value under a
 * secret path (`isSecret`, by default a secret-looking name anywhere in it) is never shown.
 */
export function problemsFromZod(
  error: z.ZodError,
  input: unknown,
  where: (path: string) => string,
  isSecret: (path: string) => boolean = isSecretPath,
): ConfigProblem[] {
  return error.issues.flatMap((issue): ConfigProblem[] => {
    const path = issue.path.map(String).join('.')
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        where: where(path ? `${path}.${key}` : key),
        expected: 'no such key (it is not a known setting; check the spelling)',
        found: describeFound(valueAt(input, [...issue.path, key]), isSecret(path ? `${path}.${key}` : key)),
      }))
    }
    let expected = issue.message
    if (issue.code === 'invalid_type')
      expected = issue.message.includes('expected ') ? String(issue.expected) : issue.message
    if (issue.code === 'invalid_value')
      expected = `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`
    return [
      { where: where(path), expected, found: describeFound(valueAt(input, issue.path), isSecret(path)) },
    ]
  })
}
