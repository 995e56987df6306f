import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { liveness } from '../../src/workers/heartbeat.js'
import type { RunningLoop } from '../../src/daemon/start-loop.js'
import { ackState, LoopWorld, until } from './loop-world.js'

const HOUSES_IN_MAIN = ['timmy', 'bezalel', 'allegro'] // ezra's only worker is the child at first

describe('a house worker killed with SIGKILL mid-job', () => {
  const world = new LoopWorld()
  let child: ChildProcess | undefined
  let rescue: RunningLoop | undefined

  beforeAll(async () => {
    await world.start({ ingress: true, router: true, reporter: true, workers: HOUSES_IN_MAIN })
  })
  // The child is tsx's wrapper with the real worker under it, both in the child's own process group:
  // killing only the wrapper would leave the worker running after the suite.
  const killGroup = (): void => {
    if (child?.pid === undefined) return
    try {
      process.kill(-child.pid, 'SIGKILL')
    } catch {
      // The group is already gone.
    }
  }
  afterAll(async () => {
    killGroup()
    await rescue?.stop()
    await world.stop()
  })

  it('has its job finished by another worker, with exactly one final comment', async () => {
    const issue = await world.openIssue()
    child = spawn(join('node_modules', '.bin', 'tsx'), ['src/cli/run-main.ts', 'worker', '--house', 'ezra'], {
      env: world.childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    let out = ''
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()))
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()))
    // Wait for the child's heartbeat, so the job goes to it.
    await until(
      'child worker heartbeat',
      async () => ((await liveness(world.redis, world.prefix, 'ezra')).alive ? true : undefined),
      15_000,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\nchild output:\n${out}`)
    })

    const c = await world.comment('writer', issue, '/run slow seconds=2 @ezra')
    const ack = await until('job running on the child', () =>
      world.botComments(issue).find((b) => b.id > c.id && ackState(b.body)?.state === 'running'),
    )
    const jobId = ackState(ack.body)!.jobId
    const exited = new Promise((r) => child!.once('exit', r))
    killGroup() // the wrapper and the real worker under it: the whole machine goes down
    await exited

    // Another machine's ezra worker comes up; the dead worker's lock expires and it takes the job.
    rescue = await world.startWorkers(['ezra'], 'rescue')
    const final = await until(
      'final result after takeover',
      () => {
        const a = world.acks(issue, jobId)[0]
        return a && ackState(a.body)?.state === 'success' ? a : undefined
      },
      15_000,
    )
    expect(final.body).toContain('`slow` on house **ezra**: success')
    await new Promise((r) => setTimeout(r, 300))
    expect(world.acks(issue, jobId)).toHaveLength(1)
    expect(world.botComments(issue).filter((b) => b.id > c.id)).toHaveLength(1)
    const record = await world.services.loop!.store.getRecord(jobId)
    expect(record?.state).toBe('success')
    const progress = await world.services.loop!.store.progress(jobId)
    expect(progress.started?.worker).not.toContain('rescue') // first started by the child...
    expect(final.body).toMatch(/ran on: `[^`]+`/)
  }, 40_000)
})
