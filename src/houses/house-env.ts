import { Secret } from '../config/secret.js'

/** One problem with a house's environment references, for the start-up error. */
export interface HouseEnvProblem {
  /** `houses.timmy.auth_token`. */
  path: string
  expected: string
  found: string
}

/** What `readHouseEnv` gives back: the file's content with references filled in. */
export interface HouseEnvResult {
  input: unknown
  problems: HouseEnvProblem[]
  /** Every value read from the environment: messages about the file must never show them. */
  secrets: string[]
}

// Where the design's houses.yaml (and our `agent:`) may refer to the environment.
const INTERPOLATED = ['auth_token', 'endpoint'] as const
const REFERENCE = /\$\{([^}]*)\}/g
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v)

/**
 * Fills in a house's environment references before the file is validated, the way docker compose
 * does: `${NAME}` inside `auth_token` and `endpoint` (of the house or of its `agent`), and the key
 * that `agent.keyEnv` names (set as `agent.key`, a `Secret`). A variable that is not set (or
 * empty) is a problem naming the variable, never a value. The input is not modified.
 *
 * @example
 *   readHouseEnv({ houses: { timmy: { endpoint: 'http://h:8642', auth_token: '${TIMMY_TOKEN}' } } },
 *     { TIMMY_TOKEN: 'k' }).problems // []
 */
export function readHouseEnv(input: unknown, env: Record<string, string | undefined>): HouseEnvResult {
  const problems: HouseEnvProblem[] = []
  const secrets: string[] = []
  if (!isObject(input) || !isObject(input.houses)) return { input, problems, secrets }

  const interpolate = (text: string, path: string, secret: boolean): string =>
    text.replace(REFERENCE, (whole, name: string) => {
      if (!NAME.test(name)) {
        problems.push({
          path,
          expected: '${NAME} with an environment variable name (letters, digits, _)',
          found: JSON.stringify(whole),
        })
        return whole
      }
      const value = env[name]
      if (!value) {
        problems.push({
          path,
          expected: `environment variable ${name} to be set (the file refers to \${${name}})`,
          found: value === undefined ? `nothing (${name} is not set)` : `${name} set to an empty value`,
        })
        return whole
      }
      if (secret) secrets.push(value)
      return value
    })

  const withRefs = (o: Record<string, unknown>, at: string): Record<string, unknown> => {
    const out = { ...o }
    for (const field of INTERPOLATED) {
      const v = out[field]
      if (typeof v === 'string') out[field] = interpolate(v, `${at}.${field}`, field === 'auth_token')
    }
    return out
  }

  const houses: Record<string, unknown> = {}
  for (const [name, house] of Object.entries(input.houses)) {
    if (!isObject(house)) {
      houses[name] = house
      continue
    }
    const at = `houses.${name}`
    const out = withRefs(house, at)
    if (isObject(house.agent)) {
      const agent = withRefs(house.agent, `${at}.agent`)
      const keyEnv = agent.keyEnv
      if (typeof keyEnv === 'string' && NAME.test(keyEnv) && agent.key === undefined) {
        const value = env[keyEnv]
        if (value) {
          secrets.push(value)
          agent.key = new Secret(value)
        } else {
          problems.push({
            path: `${at}.agent.keyEnv`,
            expected: `environment variable ${keyEnv} to be set (it holds the agent's key)`,
            found: value === undefined ? `nothing (${keyEnv} is not set)` : `${keyEnv} set to an empty value`,
          })
        }
      }
      out.agent = agent
    }
    houses[name] = out
  }
  return { input: { ...input, houses }, problems, secrets }
}
