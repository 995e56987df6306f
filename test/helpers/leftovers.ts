import { readdirSync, readFileSync } from 'node:fs'
import { setTimeout as delay } from 'node:timers/promises'
import { stragglers } from '../../src/tools/exec.js'

/**
 * Every process a test starts carries `UW_TEST_RUN=<the run's id>` in its environment: the setup
 * file puts it in each test worker's `process.env`, which children inherit (also through a wrapper
 * such as tsx, a double fork or `setsid`), and `testChildEnv` adds it to an environment a test
 * builds itself. The test workers themselves do not carry it in /proc (a variable set at run time
 * is not in /proc/<pid>/environ), so at the end of the run a process that does is a leftover.
 */
export const TEST_RUN_VAR = 'UW_TEST_RUN'

/** A process still alive at the end of a run. */
export interface Leftover {
  pid: number
  cmdline: string
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ')
  } catch {
    return '(gone)'
  }
}

/**
 * Processes whose title carries the mark: redis-server and redis-sentinel overwrite their
 * environment when they set their title, so test/helpers/redis-topology.ts puts the mark in the
 * title (`proc-title-template`) instead.
 */
function markedTitles(marker: string): number[] {
  const found: number[] = []
  for (const name of readdirSync('/proc')) {
    const pid = Number(name)
    if (!Number.isInteger(pid) || pid === process.pid) continue
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]
      if (state !== 'Z' && state !== 'X' && cmdline(pid).split(' ').includes(marker)) found.push(pid)
    } catch {
      // Gone meanwhile.
    }
  }
  return found
}

/** Live processes marked with run `runId` (and their descendants), with their command lines. */
export function findLeftovers(runId: string): Leftover[] {
  const marker = `${TEST_RUN_VAR}=${runId}`
  const pids = new Set([...stragglers(marker), ...(process.platform === 'linux' ? markedTitles(marker) : [])])
  return [...pids].sort((a, b) => a - b).map((pid) => ({ pid, cmdline: cmdline(pid) }))
}

/**
 * The end-of-run check: processes of run `runId` still alive after `waitMs` (a child killed just
 * before may still be exiting) are SIGKILLed and returned, so the caller can fail the run naming them.
 *
 * @example
 *   const left = await reapLeftovers(runId)
 *   if (left.length > 0) throw new Error(describeLeftovers(left))
 */
export async function reapLeftovers(runId: string, waitMs = 2_000): Promise<Leftover[]> {
  const deadline = Date.now() + waitMs
  let left = findLeftovers(runId)
  while (left.length > 0 && Date.now() < deadline) {
    await delay(100)
    left = findLeftovers(runId)
  }
  for (const { pid } of left) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // Gone meanwhile.
    }
  }
  return left
}

/** The failure message of the check: one line per process. */
export function describeLeftovers(left: readonly Leftover[]): string {
  return [
    `${left.length} process(es) started by the tests were still alive at the end of the run (now killed):`,
    ...left.map((l) => `  pid ${l.pid}: ${l.cmdline}`),
    'Start children in their own process group (detached: true) and kill the group: process.kill(-pid, ...).',
  ].join('\n')
}

/**
 * `env` with the run's mark, for a child whose environment a test builds without `process.env`.
 *
 * @example
 *   spawn('sleep', ['1'], { env: testChildEnv({ PATH: process.env.PATH }), detached: true })
 */
export function testChildEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const runId = process.env[TEST_RUN_VAR]
  return runId === undefined ? { ...env } : { ...env, [TEST_RUN_VAR]: runId }
}
