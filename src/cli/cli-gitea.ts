import { ConfigError, problemsFromZod } from '../config/config-error.js'
import { Env, isSecretEnv } from '../config/env.js'
import { GiteaJsAdapter } from '../gitea/gitea-js-adapter.js'
import type { RepoRef } from '../gitea/port.js'
import { UsageError } from './cli-command.js'

/**
 * The environment a one-shot CLI command reads: parsed with the same `Env` schema as `serve`, but
 * without serve's cross-checks (a command that only calls the API needs no webhook secret).
 *
 * @example
 *   const env = cliEnv(process.env)
 */
export function cliEnv(source: Record<string, string | undefined>): Env {
  const parsed = Env.safeParse(source)
  if (!parsed.success)
    throw new ConfigError(problemsFromZod(parsed.error, source, (path) => `env ${path}`, isSecretEnv))
  return parsed.data
}

/**
 * The Gitea port for a CLI command, from GITEA_URL and GITEA_TOKEN; a clear error when unset.
 *
 * @example
 *   const gitea = cliGitea(cliEnv(process.env))
 */
export function cliGitea(env: Env): GiteaJsAdapter {
  if (!env.GITEA_URL || !env.GITEA_TOKEN)
    throw new Error('set GITEA_URL and GITEA_TOKEN (a token with write access to the repository)')
  return new GiteaJsAdapter({ baseUrl: env.GITEA_URL, token: env.GITEA_TOKEN })
}

/**
 * Parses `--repo owner/name`.
 *
 * @example
 *   parseRepoArg('alice/demo') // { owner: 'alice', name: 'demo' }
 */
export function parseRepoArg(value: string | undefined): RepoRef {
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(value ?? '')
  if (!m) throw new UsageError(`--repo must be owner/name${value ? `, not "${value}"` : ''}`)
  return { owner: m[1]!, name: m[2]! }
}
