import { readFileSync } from 'node:fs'
import { parseDocument } from 'yaml'
import {
  ConfigError,
  problemsFromZod,
  scrubProblems,
  secretValuesIn,
  type ConfigProblem,
} from './config-error.js'
import { crossCheckEnv, Env, isSecretEnv } from './env.js'
import { FileConfig } from './file-config.js'
import { readHouseEnv } from '../houses/house-env.js'
import { readTelemetryEnv } from '../telemetry/telemetry-config.js'
import { readAlertsEnv } from '../alerts/alerts-config.js'
import { readDashboardEnv } from '../dashboard/dashboard-config.js'

/** Everything uni-wizard was configured with, parsed once at start-up. */
export interface Config {
  env: Env
  file: FileConfig
}

/**
 * Parses the environment and the optional YAML file. Throws one ConfigError that lists every
 * problem in both.
 *
 * @example
 *   const config = loadConfig(process.env)
 */
export function loadConfig(source: Record<string, string | undefined>): Config {
  const problems: ConfigProblem[] = []
  const env = Env.safeParse(source)
  if (!env.success) {
    problems.push(...problemsFromZod(env.error, source, (path) => `env ${path}`, isSecretEnv))
  }

  for (const p of crossCheckEnv(source)) {
    problems.push({ where: `env ${p.path}`, expected: p.expected, found: 'nothing (not set)' })
  }

  let fileInput: unknown = {}
  let fileSecrets: string[] = []
  const configPath = source.UW_CONFIG?.trim()
  if (configPath) {
    try {
      const doc = parseDocument(readFileSync(configPath, 'utf8'))
      if (doc.errors.length > 0) {
        try {
          fileSecrets = secretValuesIn(doc.toJS())
        } catch {
          // Too broken to read: its error messages are only the parser's first lines.
        }
        for (const e of doc.errors) {
          problems.push({
            where: `UW_CONFIG ${configPath}`,
            expected: 'valid YAML',
            found: e.message.split('\n')[0] ?? '',
          })
        }
      } else {
        fileInput = doc.toJS() ?? {}
      }
    } catch (err) {
      problems.push({
        where: `env UW_CONFIG`,
        expected: 'a readable YAML file',
        found: err instanceof Error ? err.message : String(err),
      })
    }
  }
  // `${NAME}` references and `agent.keyEnv` keys are read from this same environment, now.
  const houseEnv = readHouseEnv(fileInput, source)
  fileInput = houseEnv.input
  for (const p of houseEnv.problems)
    problems.push({ where: `UW_CONFIG ${p.path}`, expected: p.expected, found: p.found })
  // `telemetry.tokenEnv`: the stream's bearer token, from the same environment.
  const telemetryEnv = readTelemetryEnv(fileInput, source)
  fileInput = telemetryEnv.input
  for (const p of telemetryEnv.problems)
    problems.push({ where: `UW_CONFIG ${p.path}`, expected: p.expected, found: p.found })
  // `alerts.tokenEnv`: the Alertmanager receiver's bearer token, likewise.
  const alertsEnv = readAlertsEnv(fileInput, source)
  fileInput = alertsEnv.input
  for (const p of alertsEnv.problems)
    problems.push({ where: `UW_CONFIG ${p.path}`, expected: p.expected, found: p.found })
  // `dashboard.*Env`: the session secret, the OAuth2 client secret and the login tokens.
  const dashboardEnv = readDashboardEnv(fileInput, source)
  fileInput = dashboardEnv.input
  for (const p of dashboardEnv.problems)
    problems.push({ where: `UW_CONFIG ${p.path}`, expected: p.expected, found: p.found })
  const file = FileConfig.safeParse(fileInput)
  if (!file.success) {
    // A reference that could not be filled in is already one problem; the schema's echo of it is not another.
    // (The receiver's `alerts.token` is required, so its schema would also say it is missing.)
    const unread = new Set(
      [
        ...houseEnv.problems,
        ...telemetryEnv.problems,
        ...alertsEnv.problems,
        ...dashboardEnv.problems,
      ].flatMap((p) => [`UW_CONFIG ${p.path}`, `UW_CONFIG ${p.path.replace(/Env$/, '')}`]),
    )
    problems.push(
      ...problemsFromZod(file.error, fileInput, (path) => `UW_CONFIG ${path || '(root)'}`).filter(
        (p) => !unread.has(p.where),
      ),
    )
  }

  if (problems.length > 0 || !env.success || !file.success) {
    // Never echo a secret, wherever a message happens to quote it: the env's secret variables and
    // every value under a secret-looking name in the file.
    const secrets = [
      ...Object.entries(source).flatMap(([k, v]) =>
        v && isSecretEnv(k) ? [v, ...v.split(',').map((x) => x.trim())] : [],
      ),
      ...secretValuesIn(fileInput),
      ...fileSecrets,
      ...houseEnv.secrets,
      ...telemetryEnv.secrets,
      ...alertsEnv.secrets,
      ...dashboardEnv.secrets,
    ]
    throw new ConfigError(scrubProblems(problems, secrets))
  }
  return { env: env.data, file: file.data }
}
