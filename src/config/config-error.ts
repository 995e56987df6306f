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

function describeFound(value: unknown, secret: boolean): string {
  if (value === undefined) return 'nothing (not set)'
  if (secret) return 'a value (hidden)'
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value))
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

/** Turns zod issues into problems, reading the offending value from the raw input. */
export function problemsFromZod(
  error: z.ZodError,
  input: unknown,
  where: (path: string) => string,
  isSecret: (path: string) => boolean = () => false,
): ConfigProblem[] {
  return error.issues.flatMap((issue): ConfigProblem[] => {
    const path = issue.path.map(String).join('.')
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        where: where(path ? `${path}.${key}` : key),
        expected: 'no such key (it is not a known setting; check the spelling)',
        found: describeFound(valueAt(input, [...issue.path, key]), false),
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
