// SIGTERM to a `uni-wizard worker --house ezra` child: it stops taking jobs, lets the running one
// finish within daemon.workers.shutdownGraceMs, then exits; also when its Redis has gone away (the
// worker a test run once left behind ignored SIGTERM for good, and only SIGKILL ended it). Through
// the grace period its health port answers "draining", and closes only at the exit.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SHUTDOWN_MARGIN_MS } from '../../src/cli/serve.js'
import { listInstances } from '../../src/health/instance-registry.js'
import { startRedisServer, type RedisServerHandle } from '../../src/queue/redis-server.js'
import { liveness } from '../../src/workers/heartbeat.js'
import { ackState, LoopWorld, until } from './loop-world.js'

const GRACE_MS = 3_000
/** What exiting may take past the grace period (aborting the job, closing what is left), and the exit. */
const MARGIN_MS = SHUTDOWN_MARGIN_MS + 500

const redisDir = mkdtempSync(join(tmpdir(), 'uw-sigterm-redis-'))
let redis: RedisServerHandle
let world: LoopWorld
const children = new Set<ChildProcess>()

interface Worker {
  child: ChildProcess
  output: () => string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>
}

/** `uni-wizard worker --house ezra` in its own process group, loaded through tsx's hook. */
async function startWorker(): Promise<Worker> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/run-main.ts', 'worker', '--house', 'ezra'],
    {
      env: { ...world.childEnv(), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  )
  children.add(child)
  let out = ''
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()))
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((r) =>
    child.once('exit', (code, signal) => {
      children.delete(child)
      r({ code, signal, at: Date.now() })
    }),
  )
  await until(
    'child worker heartbeat',
    async () => ((await liveness(world.redis, world.prefix, 'ezra')).alive ? true : undefined),
    20_000,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}\nchild output:\n${out}`)
  })
  return { child, output: () => out, exited }
}

/** The JSON log lines of a child. */
function logLines(out: string): { msg: string; [k: string]: unknown }[] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string })
}

beforeAll(async () => {
  redis = await startRedisServer({ dir: redisDir, appendOnly: false })
  world = new LoopWorld({
    redisUrl: redis.url,
    fileConfig: (c) => {
      const daemon = c.daemon as { workers: Record<string, unknown> }
      daemon.workers = { ...daemon.workers, shutdownGraceMs: GRACE_MS }
      return c
    },
  })
  // ezra's only worker is the child.
  await world.start({ ingress: true, router: true, reporter: true, workers: [] })
}, 30_000)

afterAll(async () => {
  for (const c of children) {
    try {
      process.kill(-c.pid!, 'SIGKILL')
    } catch {
      // The group is already gone.
    }
  }
  try {
    await world?.stop()
  } finally {
    // Whatever happened above: redis-server rewrites its process title over its environment, so
    // the run's leftover check cannot find it by its mark.
    await redis?.stop()
    rmSync(redisDir, { recursive: true, force: true })
  }
})

describe('SIGTERM to a house worker', () => {
  it('with Redis up: takes no new job, finishes the running one within the grace period, exits 0', async () => {
    const w = await startWorker()
    const issue = await world.openIssue('Shutdown with Redis up')
    const c = await world.comment('writer', issue, '/run slow seconds=1.5 @ezra')
    const ack = await until('job running on the child', () =>
      world.botComments(issue).find((b) => b.id > c.id && ackState(b.body)?.state === 'running'),
    )
    const jobId = ackState(ack.body)!.jobId
    const sent = Date.now()
    w.child.kill('SIGTERM')
    // Queued after the signal: the stopping worker must leave it for another one.
    const late = await world.comment('writer', issue, '/run slow seconds=0.1 @ezra')
    const exit = await w.exited
    expect(exit, w.output()).toMatchObject({ code: 0, signal: null })
    expect(exit.at - sent).toBeLessThan(GRACE_MS + MARGIN_MS)

    const rec = await world.services.loop!.store.getRecord(jobId)
    expect(rec?.state).toBe('success')
    const lateAck = await until('ack of the late job', () =>
      world.botComments(issue).find((b) => b.id > late.id && ackState(b.body)),
    )
    const lateRec = await world.services.loop!.store.getRecord(ackState(lateAck.body)!.jobId)
    expect(lateRec?.state).toBe('queued')
    const msgs = logLines(w.output()).map((l) => l.msg)
    expect(msgs).toContain('shutting down')
    expect(msgs).toContain('stopped')
  }, 40_000)

  it('keeps its health port through the grace period: /ready 503 draining, /health draining; closed after the exit', async () => {
    const w = await startWorker()
    const me = await until('the child registered its health port', async () =>
      (await listInstances(world.redis, world.prefix)).find((i) => i.pid === w.child.pid),
    )
    const url = me.address!
    expect((await fetch(`${url}/ready`)).status).toBe(200)
    expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: 'ok' })

    const issue = await world.openIssue('Health while draining')
    const c = await world.comment('writer', issue, '/run slow seconds=2.5 @ezra')
    const ack = await until('job running on the child', () =>
      world.botComments(issue).find((b) => b.id > c.id && ackState(b.body)?.state === 'running'),
    )
    w.child.kill('SIGTERM')
    // Draining from the signal on, while the job still runs.
    const ready = await until('/ready says draining', async () => {
      const res = await fetch(`${url}/ready`)
      return res.status === 503 ? res : undefined
    })
    expect(await ready.json()).toMatchObject({
      ready: false,
      draining: true,
      reason: expect.stringContaining('draining'),
    })
    expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: 'draining' })
    const details = (await (await fetch(`${url}/health/details`)).json()) as Record<string, unknown>
    expect(details).toMatchObject({ status: 'draining', ready: false, draining: true })
    const jobId = ackState(ack.body)!.jobId
    expect((await world.services.loop!.store.getRecord(jobId))?.state).toBe('running')
    // Still registered: `uni-wizard health` finds it and hears "draining", not silence.
    expect((await listInstances(world.redis, world.prefix)).map((i) => i.pid)).toContain(w.child.pid)

    const exit = await w.exited
    expect(exit, w.output()).toMatchObject({ code: 0, signal: null })
    expect((await world.services.loop!.store.getRecord(jobId))?.state).toBe('success')
    await expect(fetch(`${url}/health`)).rejects.toThrow()
    expect((await listInstances(world.redis, world.prefix)).map((i) => i.pid)).not.toContain(w.child.pid)
  }, 40_000)

  it('with Redis gone: exits within the grace period and a small margin, exit code 1, saying why', async () => {
    const w = await startWorker()
    const issue = await world.openIssue('Shutdown with Redis gone')
    const c = await world.comment('writer', issue, '/run slow seconds=30 @ezra')
    await until('job running on the child', () =>
      world.botComments(issue).find((b) => b.id > c.id && ackState(b.body)?.state === 'running'),
    )
    await redis.stop()
    const sent = Date.now()
    w.child.kill('SIGTERM')
    const exit = await Promise.race([
      w.exited,
      new Promise<'hung'>((r) => setTimeout(() => r('hung'), GRACE_MS + MARGIN_MS + 5_000)),
    ])
    // Back on the same port and directory, so the world can stop and clean up.
    redis = await startRedisServer({ dir: redisDir, port: redis.port, appendOnly: false })
    expect(exit, w.output()).not.toBe('hung')
    if (exit === 'hung') return
    expect(exit).toMatchObject({ code: 1, signal: null })
    expect(exit.at - sent).toBeLessThan(GRACE_MS + MARGIN_MS)
    const lines = logLines(w.output())
    expect(lines.map((l) => l.msg)).toContain('grace period over; aborting running jobs')
    expect(lines.find((l) => l.msg === 'stopped uncleanly')).toBeDefined()
  }, 40_000)
})
