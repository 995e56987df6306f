// Gitea failing: 100 `/run` jobs go through the real loop while the Gitea double fails every call
// the bot makes for a window, in three phases: 500, 429 with Retry-After, and hanging longer than
// the adapter's request timeout (the double serves a hung request late, after the bot gave up on
// it, as a slow real server may). The commands arrive before and during the window. After Gitea
// recovers, every job must reach its final state in its one ack comment, with one final reaction.
import { setTimeout as delay } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ackState, LoopWorld, until } from '../e2e/loop-world.js'
import { reportSummary } from './summary.js'

const JOBS = 100
const BEFORE_OUTAGE = 33
/**
 * The outage. The issue asks for 30 s; CI uses 10 s to keep the suite within a few minutes. Run
 * the full window with `UW_RESILIENCE_GITEA_OUTAGE_MS=30000 npm run test:resilience`.
 */
const OUTAGE_MS = Number(process.env.UW_RESILIENCE_GITEA_OUTAGE_MS) || 10_000
/** The bot's per-request timeout; the hang phase holds each request longer than this. */
const REQUEST_TIMEOUT_MS = 1_000
const HANG_MS = 2_500
const HOUSES = ['ezra', 'allegro', 'bezalel']

const world = new LoopWorld({ adapter: { requestTimeoutMs: REQUEST_TIMEOUT_MS } })

beforeAll(async () => {
  await world.start()
})
afterAll(async () => {
  await world.stop()
})

describe('gitea failing for a window during 100 jobs', () => {
  it('delivers every result once after it recovers', async () => {
    const started = Date.now()
    const d = world.gitea.double
    const issue = await world.openIssue('Gitea outage')
    await world.settle()
    const botComments = (): number => world.botComments(issue).length
    const before = botComments()
    const commands: number[] = []
    const post = (i: number) =>
      commands.push(
        d.createComment(world.repo, issue, {
          author: 'wren',
          body: `/run slow seconds=0.${1 + (i % 3)} @${HOUSES[i % HOUSES.length]}`,
        }).id,
      )

    // A third before the outage: these are acked and running when Gitea starts failing.
    for (let i = 0; i < BEFORE_OUTAGE; i++) post(i)
    await delay(500)
    const phase = OUTAGE_MS / 3
    const t0 = Date.now()
    const requestsBefore = d.requests.length
    d.faults.set({ status: 500, untilMs: t0 + phase })
    d.faults.add({ status: 429, retryAfter: 1, untilMs: t0 + 2 * phase })
    d.faults.add({ hangMs: HANG_MS, untilMs: t0 + OUTAGE_MS })
    // The rest arrive during the outage, spread over its first two thirds.
    for (let i = BEFORE_OUTAGE; i < JOBS; i++) {
      post(i)
      await delay((2 * phase) / JOBS)
    }
    await delay(Math.max(0, t0 + OUTAGE_MS - Date.now()))
    const recoveredAt = Date.now()
    const faulted = d.requests.length - requestsBefore

    const finalOf = () => {
      const acks = world.botComments(issue).flatMap((c) => {
        const s = ackState(c.body)
        return s ? [s] : []
      })
      return acks
    }
    await until(
      'all 100 results',
      () => {
        const acks = finalOf()
        return acks.length >= JOBS && acks.every((a) => a.state === 'success') ? true : undefined
      },
      60_000,
    ).catch((err: unknown) => {
      const states: Record<string, number> = {}
      for (const a of finalOf()) states[a.state] = (states[a.state] ?? 0) + 1
      const others = world
        .botComments(issue)
        .filter((c) => !ackState(c.body))
        .map((c) => c.body.slice(0, 160))
      throw new Error(
        `${String(err)}: acks=${finalOf().length} ${JSON.stringify(states)} others=${JSON.stringify(others)}`,
      )
    })
    const lastResultMs = Date.now() - recoveredAt
    // Hung requests land up to HANG_MS after the window; a late duplicate or a stale edit shows here.
    await delay(HANG_MS + 500)

    const acks = finalOf()
    const perJob = new Map<string, number>()
    for (const a of acks) perJob.set(a.jobId, (perJob.get(a.jobId) ?? 0) + 1)
    const reactions = commands.map((id) =>
      world.reactions(id).filter((r) => r === 'rocket' || r === 'confused'),
    )
    const success = acks.filter((a) => a.state === 'success').length
    const duplicates =
      [...perJob.values()].filter((n) => n > 1).length + reactions.filter((r) => r.length > 1).length
    const otherBotComments = botComments() - before - acks.length
    const jobsPerCommand = new Map<number, string[]>()
    for (const id of perJob.keys()) {
      const rec = await world.services.loop!.store.getRecord(id)
      const c = rec?.origin.commentId ?? -1
      jobsPerCommand.set(c, [...(jobsPerCommand.get(c) ?? []), `${id}:${rec?.origin.deliveryId}`])
    }
    const extraJobs = [...jobsPerCommand.entries()].filter(([, ids]) => ids.length > 1)
    const line = reportSummary(
      'gitea-failing',
      { sent: JOBS, acknowledged: perJob.size, handled: success, duplicates, lost: JOBS - perJob.size },
      {
        outageMs: OUTAGE_MS,
        phases: '500,429+Retry-After,hang',
        hangMs: HANG_MS,
        requestTimeoutMs: REQUEST_TIMEOUT_MS,
        requestsDuringOutage: faulted,
        lastResultAfterRecoveryMs: lastResultMs,
        otherBotComments,
        extraJobs: JSON.stringify(extraJobs),
        seconds: ((Date.now() - started) / 1000).toFixed(1),
      },
    )
    expect(commands, line).toHaveLength(JOBS)
    expect(extraJobs, line).toEqual([])
    expect(perJob.size, line).toBe(JOBS)
    expect(success, line).toBe(JOBS)
    expect(duplicates, line).toBe(0)
    expect(otherBotComments, line).toBe(0)
    expect(
      reactions.every((r) => r.length === 1 && r[0] === 'rocket'),
      line,
    ).toBe(true)
  }, 150_000)
})
