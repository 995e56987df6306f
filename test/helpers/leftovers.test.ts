import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { setTimeout as delay } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { freePort } from '../../src/queue/redis-server.js'
import { describeLeftovers, findLeftovers, reapLeftovers, TEST_RUN_VAR } from './leftovers.js'

// The end-of-run check (test/setup/leftover-check.ts), called directly with a run id of its own so
// the real run's check is not the one that fires.
describe('the leftover check at the end of a test run', () => {
  it('finds, names and kills what a test left behind, a wrapper killed alone included', async () => {
    const runId = randomUUID()
    // What worker-crash used to do: a wrapper (sh here, tsx there) with the real process under it,
    // and only the wrapper killed. Its child is reparented and keeps running.
    const wrapper = spawn('sh', ['-c', 'sleep 300 & wait'], {
      env: { ...process.env, [TEST_RUN_VAR]: runId },
      stdio: 'ignore',
    })
    const wrapperGone = new Promise((r) => wrapper.once('exit', r))
    let sleeper: number | undefined
    for (let i = 0; i < 50 && sleeper === undefined; i++) {
      await delay(20)
      sleeper = findLeftovers(runId).find((l) => l.cmdline === 'sleep 300')?.pid
    }
    expect(sleeper).toBeDefined()
    wrapper.kill('SIGKILL')
    await wrapperGone

    const left = await reapLeftovers(runId, 200)
    expect(left).toEqual([{ pid: sleeper, cmdline: 'sleep 300' }])
    expect(describeLeftovers(left)).toContain(`pid ${sleeper}: sleep 300`)
    // Killed: gone from the scan (a dead process no one has reaped yet is a zombie, not alive).
    for (let i = 0; i < 50 && findLeftovers(runId).length > 0; i++) await delay(20)
    expect(findLeftovers(runId)).toEqual([])
  })

  it('finds a redis-server by its title, where it keeps the mark after overwriting its environment', async () => {
    const runId = randomUUID()
    const marker = `${TEST_RUN_VAR}=${runId}`
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(await freePort()),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--loglevel',
        'warning',
        '--proc-title-template',
        `{title} ${marker}`,
      ],
      { env: { ...process.env, [TEST_RUN_VAR]: runId }, stdio: 'ignore', detached: true },
    )
    const gone = new Promise((r) => child.once('exit', r))
    let found: number | undefined
    for (let i = 0; i < 100 && found === undefined; i++) {
      await delay(20)
      // Only once the title is set does the environment lose the mark: wait for that state.
      const env = readFileSync(`/proc/${child.pid}/environ`)
      if (!env.includes(Buffer.from(marker)))
        found = findLeftovers(runId).find((l) => l.pid === child.pid)?.pid
    }
    expect(found).toBe(child.pid)
    expect(await reapLeftovers(runId, 200)).toEqual([
      { pid: child.pid, cmdline: expect.stringContaining(marker) },
    ])
    await gone
  })

  it('passes when every child was stopped, and does not count the test worker itself', async () => {
    const runId = randomUUID()
    const child = spawn('sleep', ['300'], { env: { ...process.env, [TEST_RUN_VAR]: runId }, stdio: 'ignore' })
    const gone = new Promise((r) => child.once('exit', r))
    child.kill('SIGKILL')
    await gone
    expect(await reapLeftovers(runId, 200)).toEqual([])
    // This worker's process.env holds the run's mark (set by the setup file), yet it is no leftover.
    expect(process.env[TEST_RUN_VAR]).toBeTruthy()
    expect(findLeftovers(process.env[TEST_RUN_VAR]!).map((l) => l.pid)).not.toContain(process.pid)
  })
})
