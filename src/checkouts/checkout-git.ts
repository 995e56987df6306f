import { exec, tail, type ExecResult } from '../tools/exec.js'
import { gitEnv } from '../tools/git/git-repo.js'
import type { ToolContext } from '../tools/tool.js'
import type { ToolsConfig } from '../tools/tools-config.js'
import type { Logger } from '../logger.js'
import { CheckoutError } from './checkout-error.js'

/**
 * Runs one git command. The default runs `git` through `tools/exec` (no shell, own process group,
 * killed with its descendants on abort); tests inject one to simulate a full disk.
 */
export type GitRunner = (
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; signal: AbortSignal; input?: string },
) => Promise<ExecResult>

export const runGit: GitRunner = (args, { env, signal, input }) =>
  exec('git', ['--no-pager', ...args], { env, signal, input, maxOutputBytes: 1024 * 1024 })

export interface GitCall {
  /** What git does, for the error message ("fetch acme/api"). */
  what: string
  /** Only for the mirror fetch: becomes `http.extraHeader` in the environment, never argv. */
  token?: string
  /** Local clone from the mirror: the `file` transport is allowed for this one command. */
  local?: boolean
  signal: AbortSignal
  /** Written to git's stdin. */
  input?: string
}

/**
 * The environment of a checkout's git: `gitEnv` of the git tools (built from nothing, SAFE_CONFIG
 * as command-line config: hooks off, no program named by any config, http(s) only, no redirects,
 * no credential helper or prompt) plus, for a fetch, the token as an HTTP header. Passed through
 * `GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n`, so it is in no argv (`ps`), URL or config file.
 */
export function checkoutEnv(
  toolConfig: ToolsConfig | undefined,
  call: Pick<GitCall, 'token' | 'local'>,
): NodeJS.ProcessEnv {
  const extra: [string, string][] = []
  if (call.token) extra.push(['http.extraHeader', `Authorization: token ${call.token}`])
  // The one local transport, for `clone <mirror> <checkout>`: the source is our own mirror.
  if (call.local) extra.push(['protocol.file.allow', 'always'])
  // gitEnv reads only the `toolSettings.git` author from its context.
  const env = gitEnv({ toolConfig } as ToolContext, extra)
  return call.local ? { ...env, GIT_ALLOW_PROTOCOL: 'file' } : env
}

const NOT_FOUND = /repository '.*' not found|returned error: 404/i
const REFUSED = /returned error: 40[13]|could not read (username|password)|authentication failed/i
const DISK_FULL = /no space left on device|disk quota exceeded|ENOSPC|EDQUOT/i
const NETWORK =
  /could not resolve host|failed to connect|couldn't connect|connection (refused|timed out|reset)|timed out|early eof|rpc failed|the remote end hung up|returned error: 5\d\d|returned error: 429|temporarily unavailable|could not read from remote|index\.lock|\.lock': File exists/i

/** Removes every occurrence of the token from a text (git never prints it; this is the backstop). */
export function scrub(text: string, token: string | undefined): string {
  return token ? text.split(token).join('[redacted]') : text
}

/**
 * Runs git and returns stdout; a failure throws a CheckoutError whose kind says what happened:
 * 404 → `not-found`, 401/403 → `unauthorized`, a full disk → `disk-full`, network trouble →
 * `network` (the last two transient).
 */
export async function checkoutGit(
  run: GitRunner,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  call: GitCall & { repoKey: string; log: Logger },
): Promise<string> {
  let r: ExecResult
  try {
    r = await run(args, { env, signal: call.signal, input: call.input })
  } catch (err) {
    if ((err as NodeJS.ErrnoException | undefined)?.code === 'ENOSPC') throw diskFull(call.what, err)
    throw err
  }
  if (r.code === 0) return r.stdout
  const msg = scrub(tail(r.stderr || r.stdout, 600), call.token)
  call.log.warn({ repo: call.repoKey, what: call.what, code: r.code, stderr: msg }, 'checkout git failed')
  if (DISK_FULL.test(msg)) throw diskFull(call.what, msg)
  if (NOT_FOUND.test(msg))
    throw new CheckoutError(
      'not-found',
      `the repository ${call.repoKey} was not found on Gitea (${call.what})`,
    )
  if (REFUSED.test(msg))
    throw new CheckoutError(
      'unauthorized',
      `Gitea refused the bot's token for ${call.repoKey} (${call.what}): check the token's access to the repository`,
    )
  if (NETWORK.test(msg)) throw new CheckoutError('network', `git ${call.what} failed (network): ${msg}`)
  throw new CheckoutError('git', `git ${call.what} failed: ${msg}`)
}

/** The transient error of a full disk; `cause` is an ENOSPC error or git's message. */
export function diskFull(what: string, cause: unknown): CheckoutError {
  const detail = cause instanceof Error ? cause.message : String(cause)
  return new CheckoutError('disk-full', `the checkout disk is full: ${what} failed (${detail})`, { cause })
}
