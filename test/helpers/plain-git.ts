import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const execFileP = promisify(execFile)

/** The environment of a test's own git: no system or global config, never a prompt. */
const ENV = {
  ...process.env,
  GIT_TERMINAL_PROMPT: '0',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
}

/**
 * Runs plain git for a test (setting repositories up, looking at what a tool did); trimmed stdout,
 * or throws. Asynchronous on purpose: a git HTTP server the test runs is in this process, and a
 * synchronous git talking to it would block the event loop that has to answer it.
 *
 * @example
 *   await g(repo, 'commit', '-qm', 'first')
 */
export async function g(cwd: string, ...args: string[]): Promise<string> {
  return (await execFileP('git', args, { cwd, encoding: 'utf8', env: ENV })).stdout.trim()
}
