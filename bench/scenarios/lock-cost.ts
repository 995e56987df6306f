// What the fast-takeover lock settings cost Redis: one house worker (BullMQ's Worker, as
// startHouseWorker configures it) holding CONCURRENCY long-running jobs, and the same worker idle,
// with the defaults (2 s lock, 0.5 s stalled check) against the old defaults (30 s lock, 15 s
// check) as the baseline, on a redis-server of its own. Counted from Redis' INFO: commands the
// server processed per second (client calls and the calls inside scripts), and script calls.
// Standalone: npx tsx bench/scenarios/lock-cost.ts
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { DaemonConfig } from '../../src/config/daemon-config.js'
import { createRedis } from '../../src/queue/connection.js'
import { startRedisServer } from '../../src/queue/redis-server.js'
import type { Round, Scenario, ScenarioResult } from '../scenario.js'

const WINDOW_MS = Number(process.env.UW_BENCH_LOCK_WINDOW_MS ?? 6_000)
const CONCURRENCY = 4
const OLD = { lockDurationMs: 30_000, stalledIntervalMs: 15_000 }

/** Commands and script calls Redis processed so far (commandstats counts the calls scripts make too). */
async function counters(redis: Redis): Promise<{ commands: number; scripts: number }> {
  const info = await redis.info('commandstats')
  let commands = 0
  let scripts = 0
  for (const m of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) {
    if (m[1] === 'info') continue
    commands += Number(m[2])
    if (m[1] === 'evalsha' || m[1] === 'eval') scripts += Number(m[2])
  }
  return { commands, scripts }
}

/** Per second over WINDOW_MS (or two of the settings' longest period): one worker with `busy` jobs held (or none), given lock settings. */
async function measure(
  url: string,
  prefix: string,
  settings: { lockDurationMs: number; stalledIntervalMs: number },
  busy: boolean,
): Promise<{ commands: number; scripts: number }> {
  const connection = createRedis(url, 'worker')
  const queue = new Queue('house-bench', { connection, prefix })
  let release = () => {}
  const held = new Promise<void>((r) => (release = r))
  const worker = new Worker('house-bench', () => held, {
    connection,
    prefix,
    concurrency: CONCURRENCY,
    lockDuration: settings.lockDurationMs,
    stalledInterval: settings.stalledIntervalMs,
  })
  const probe = new Redis(url)
  try {
    await worker.waitUntilReady()
    if (busy) {
      for (let i = 0; i < CONCURRENCY; i++) await queue.add('noop', {})
      while ((await queue.getActiveCount()) < CONCURRENCY) await new Promise((r) => setTimeout(r, 20))
    }
    // Settle into the steady state (timers started, first renewals done).
    await new Promise((r) => setTimeout(r, 1_000))
    // Long enough to hold two of the slowest period (a renewal every half lock, a stalled check).
    const windowMs = Math.max(
      WINDOW_MS,
      2 * Math.max(settings.lockDurationMs / 2, settings.stalledIntervalMs),
    )
    const before = await counters(probe)
    await new Promise((r) => setTimeout(r, windowMs))
    const after = await counters(probe)
    const s = windowMs / 1000
    return { commands: (after.commands - before.commands) / s, scripts: (after.scripts - before.scripts) / s }
  } finally {
    release()
    await worker.close()
    await queue.obliterate({ force: true })
    await queue.close()
    connection.disconnect()
    probe.disconnect()
  }
}

export const lockCostScenario: Scenario = {
  name: 'lock-cost',
  description: 'Redis calls per second of one house worker with the default locks vs the old 30 s / 15 s',
  async run({ rounds, progress }): Promise<ScenarioResult> {
    const dir = mkdtempSync(join(tmpdir(), 'uw-bench-lock-'))
    const server = await startRedisServer({ dir, appendOnly: false })
    const now = DaemonConfig.parse({}).workers
    const results: Round[] = []
    try {
      for (let round = 0; round < rounds; round++) {
        const subjectBusy = await measure(server.url, `{lc${round}a}`, now, true)
        const baselineBusy = await measure(server.url, `{lc${round}b}`, OLD, true)
        const subjectIdle = await measure(server.url, `{lc${round}c}`, now, false)
        const baselineIdle = await measure(server.url, `{lc${round}d}`, OLD, false)
        progress(
          `round ${round + 1}: busy ${subjectBusy.commands.toFixed(1)} vs ${baselineBusy.commands.toFixed(1)} commands/s, idle ${subjectIdle.commands.toFixed(1)} vs ${baselineIdle.commands.toFixed(1)}`,
        )
        results.push({
          subject: {
            busyCommands: subjectBusy.commands,
            busyScripts: subjectBusy.scripts,
            idleCommands: subjectIdle.commands,
            idleScripts: subjectIdle.scripts,
          },
          baseline: {
            busyCommands: baselineBusy.commands,
            busyScripts: baselineBusy.scripts,
            idleCommands: baselineIdle.commands,
            idleScripts: baselineIdle.scripts,
          },
        })
      }
    } finally {
      await server.stop()
      rmSync(dir, { recursive: true, force: true })
    }
    return {
      subject: `one worker, ${CONCURRENCY} jobs held, lock ${now.lockDurationMs} ms, stalled check ${now.stalledIntervalMs} ms (the defaults)`,
      baseline: `the same with the old defaults: lock ${OLD.lockDurationMs} ms, stalled check ${OLD.stalledIntervalMs} ms`,
      metrics: [
        { key: 'busyCommands', label: 'Redis commands/s, 4 jobs held', unit: '/s', better: 'lower' },
        { key: 'busyScripts', label: 'script calls/s, 4 jobs held', unit: '/s', better: 'lower' },
        { key: 'idleCommands', label: 'Redis commands/s, idle worker', unit: '/s', better: 'lower' },
        { key: 'idleScripts', label: 'script calls/s, idle worker', unit: '/s', better: 'lower' },
      ],
      rounds: results,
      targets: [
        {
          metric: 'busyCommands',
          kind: 'max',
          value: 50,
          description: 'a busy worker costs Redis under 50 commands/s with the fast-takeover defaults',
        },
      ],
      settings: { windowMs: WINDOW_MS, concurrency: CONCURRENCY },
    }
  },
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await lockCostScenario.run({ rounds: 1, progress: (l) => console.log(l) })
  console.log(JSON.stringify(r.rounds, null, 2))
}
