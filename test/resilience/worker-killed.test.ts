// Worker killed: under a steady stream of `/run slow` jobs (a read tool sleeping 0.3-0.8 s) through
// the real loop (Gitea double over HTTP, signed webhooks, ingress, router, reporter), SIGKILL a
// house worker child process mid-job 20 times in a row, with the default lock and stall settings,
// replacing each with a fresh child while an in-process worker of the same house stays alive. Every job the dead child held must end `success`
// on another worker within 5 s of the kill, and every job must have exactly one ack comment, one
// final state and one final reaction.
import { spawn, type ChildProcess } from 'node:child_process'
import { setTimeout as delay } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DaemonConfig } from '../../src/config/daemon-config.js'
import type { JobRecord } from '../../src/jobs/job-store.js'
import { ackState, LoopWorld, until } from '../e2e/loop-world.js'
import { reportSummary } from './summary.js'

const KILLS = 20
/** Children alive at once: a spare is already up when one is killed, so no kill waits on a spawn. */
const CHILDREN = 2
/** Jobs posted but not yet final, kept about constant: the load. */
const IN_FLIGHT = 5
const TAKEOVER_BUDGET_MS = 5_000
/**
 * The lock and stall settings under test are the DEFAULTS (DaemonConfig: 2 s lock, 1 s stalled
 * check, 2 takeovers): the e2e config's short test values are removed below. A dead worker's job
 * is moved back to wait between the lock's expiry and the next stalled check, 2-3 s after the
 * death, which leaves the rest of the 5 s budget for picking it up, the re-run of up to 0.8 s,
 * signing and storing the result. The trade-off (Redis calls, the event-loop stall a live worker
 * survives) is in docs/OPERATIONS.md.
 */
const DEFAULTS = DaemonConfig.parse({}).workers
const FINAL = new Set(['success', 'failure', 'unverified', 'timeout', 'denied', 'cancelled'])

const world = new LoopWorld({
  fileConfig: (c) => {
    // The defaults: drop the e2e config's short locks, stall checks and heartbeats.
    const workers = (c.daemon as { workers: Record<string, number> }).workers
    for (const key of ['lockDurationMs', 'stalledIntervalMs', 'maxStalledCount', 'heartbeatMs'])
      delete workers[key]
    // Spare slots (a house's capacity, not the takeover's mechanism): a takeover should not also
    // wait for a busy worker to finish another job.
    const houses = (c.houses ?? {}) as Record<string, Record<string, unknown>>
    houses.ezra = { ...houses.ezra, concurrency: 4 }
    c.houses = houses
    return c
  },
})
const children = new Set<ChildProcess>()

/** A `uni-wizard worker --house ezra` child, loaded through tsx's hook (no build step). */
function spawnWorker(): ChildProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/run-main.ts', 'worker', '--house', 'ezra'],
    {
      env: world.childEnv(),
      stdio: ['ignore', 'ignore', 'pipe'],
      // Its own process group, so the group kill below also takes whatever it started.
      detached: true,
    },
  )
  child.stderr?.resume()
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

beforeAll(async () => {
  // The main process keeps one ezra worker alive throughout; children come and go.
  await world.start({ ingress: true, router: true, reporter: true, workers: ['ezra'] })
})
/** SIGKILLs a child's whole process group (the group is already gone when it exited with it). */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, 'SIGKILL')
  } catch {
    // The group is already gone.
  }
}

afterAll(async () => {
  const gone = [...children].map((c) => new Promise((r) => c.once('exit', r)))
  for (const c of children) killGroup(c)
  await Promise.all(gone)
  await world.stop()
})

describe('house workers killed with SIGKILL mid-job, 20 times in a row, under load', () => {
  it('has every job the dead worker held finished by another worker within 5 s, once', async () => {
    const started = Date.now()
    const issue = await world.openIssue('Worker kills')
    const d = world.gitea.double
    let live: ChildProcess[] = Array.from({ length: CHILDREN }, spawnWorker)
    const workerOf = (c: ChildProcess) => `:${c.pid}:ezra`

    // The load: keep IN_FLIGHT jobs not final, posting comments straight into the double.
    const jobs = new Map<string, JobRecord | undefined>() // job id -> last record read
    // Workers that finished a job: a cold child (tsx still compiling, first signing) can take a
    // second or more over its first job, which is not what this test measures.
    const warm = new Set<string>()
    const isWarm = (c: ChildProcess) => [...warm].some((w) => w.endsWith(workerOf(c)))
    let posted = 0
    let stop = false
    const finalCount = () => [...jobs.values()].filter((r) => r && FINAL.has(r.state)).length
    const refresh = async () => {
      for (const a of world.botComments(issue)) {
        const s = ackState(a.body)
        if (s && !jobs.has(s.jobId)) jobs.set(s.jobId, undefined)
      }
      for (const [id, rec] of jobs) {
        if (rec && FINAL.has(rec.state)) continue
        const now = await world.services.loop!.store.getRecord(id)
        jobs.set(id, now)
        if (now && FINAL.has(now.state)) {
          const by = (await world.services.loop!.store.progress(now.runId)).started?.worker
          if (by) warm.add(by)
        }
      }
    }
    const load = (async () => {
      while (!stop) {
        await refresh()
        while (posted - finalCount() < IN_FLIGHT) {
          const seconds = (0.3 + ((posted * 7919) % 50) / 100).toFixed(2)
          d.createComment(world.repo, issue, { author: 'wren', body: `/run slow seconds=${seconds} @ezra` })
          posted++
        }
        await delay(40)
      }
    })()

    const kills: { at: number; jobIds: string[] }[] = []
    try {
      while (kills.length < KILLS) {
        // Wait for a live child to be mid-job on jobs no earlier kill touched.
        const target = await until(
          'a child worker mid-job',
          async () => {
            for (const child of live) {
              const held: string[] = []
              for (const [id, rec] of jobs) {
                if (!rec || rec.state !== 'running') continue
                const p = await world.services.loop!.store.progress(rec.runId)
                if (p.started?.worker.endsWith(workerOf(child)) && p.result === undefined) held.push(id)
              }
              const fresh = held.filter((id) => !kills.some((k) => k.jobIds.includes(id)))
              const othersWarm = live.every((c) => c === child || isWarm(c))
              if (fresh.length > 0 && fresh.length === held.length && othersWarm) return { child, held }
            }
            return undefined
          },
          30_000,
        )
        const exited = new Promise((r) => target.child.once('exit', r))
        killGroup(target.child)
        const at = Date.now()
        await exited
        kills.push({ at, jobIds: target.held })
        live = live.filter((c) => c !== target.child)
        // The replacement starts once the killed jobs are final, so a cold child never takes them.
        const killedIds = target.held
        void until(
          'killed jobs final before respawn',
          () => (killedIds.every((id) => FINAL.has(jobs.get(id)?.state ?? '')) ? true : undefined),
          15_000,
        )
          .catch(() => undefined)
          .then(() => live.push(spawnWorker()))
      }
      // Every killed job ends, then the rest of the load drains.
      await until(
        'killed jobs final',
        () =>
          kills.every((k) => k.jobIds.every((id) => FINAL.has(jobs.get(id)?.state ?? ''))) ? true : undefined,
        15_000,
      )
    } finally {
      stop = true
      await load
    }
    await until(
      'all jobs final and reported',
      async () => {
        await refresh()
        if (finalCount() < jobs.size || jobs.size < posted) return undefined
        const acks = world.botComments(issue).filter((a) => ackState(a.body))
        return acks.every((a) => FINAL.has(ackState(a.body)!.state)) ? true : undefined
      },
      20_000,
    ).catch((err: unknown) => {
      const states = [...jobs.values()].map((r) => r?.state ?? 'unread').join(',')
      throw new Error(`${String(err)}: posted=${posted} jobs=${jobs.size} states=${states}`)
    })
    await delay(300) // a late duplicate would show up here

    // Count what came out, per job.
    const acksPerJob = new Map<string, number>()
    const finalAcks = new Map<string, number>()
    for (const a of world.botComments(issue)) {
      const s = ackState(a.body)
      if (!s) continue
      acksPerJob.set(s.jobId, (acksPerJob.get(s.jobId) ?? 0) + 1)
      if (FINAL.has(s.state)) finalAcks.set(s.jobId, (finalAcks.get(s.jobId) ?? 0) + 1)
    }
    const commands = d.comments(world.repo, issue).filter((c) => c.body.startsWith('/run slow'))
    const reactions = commands.map((c) =>
      world.reactions(c.id).filter((r) => r === 'rocket' || r === 'confused'),
    )
    const takeoverMs: number[] = []
    for (const k of kills)
      for (const id of k.jobIds) takeoverMs.push(Date.parse(jobs.get(id)?.finishedAt ?? '') - k.at)
    const killedJobs = kills.flatMap((k) => k.jobIds)
    const notSuccess = [...jobs.values()].filter((r) => r?.state !== 'success').map((r) => r?.state)
    const duplicates =
      [...acksPerJob.values()].filter((n) => n > 1).length + reactions.filter((r) => r.length > 1).length
    const lost = posted - [...finalAcks.keys()].length
    const slow = takeoverMs.filter((ms) => !(ms <= TAKEOVER_BUDGET_MS))
    const sorted = [...takeoverMs].sort((a, b) => a - b)

    const line = reportSummary(
      'worker-killed',
      { sent: posted, acknowledged: acksPerJob.size, handled: finalAcks.size, duplicates, lost },
      {
        kills: kills.length,
        killedJobs: killedJobs.length,
        takeoverMsMax: sorted.at(-1) ?? 0,
        takeoverMsMedian: sorted[Math.floor(sorted.length / 2)] ?? 0,
        overBudget: slow.length,
        notSuccess: notSuccess.length,
        lockMs: DEFAULTS.lockDurationMs,
        stalledMs: DEFAULTS.stalledIntervalMs,
        seconds: ((Date.now() - started) / 1000).toFixed(1),
      },
    )
    expect(kills, line).toHaveLength(KILLS)
    expect(slow, line).toEqual([])
    expect(notSuccess, line).toEqual([])
    expect({ duplicates, lost }, line).toEqual({ duplicates: 0, lost: 0 })
    expect(commands, line).toHaveLength(posted)
    expect(
      reactions.every((r) => r.length === 1 && r[0] === 'rocket'),
      line,
    ).toBe(true)
  }, 150_000)
})
