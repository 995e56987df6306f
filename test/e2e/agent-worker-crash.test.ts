import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  startHermesDouble,
  DEFAULT_DOUBLE_API_KEY,
  type RunningHermesDouble,
} from '../../src/agents/hermes/index.js'
import type { RunningLoop } from '../../src/daemon/start-loop.js'
import { liveness } from '../../src/workers/heartbeat.js'
import { ackState, LoopWorld, until } from './loop-world.js'

const HERMES_KEY_ENV = 'UW_E2E_CRASH_HERMES_KEY'
const ANSWER = 'I wrote CRASH.md and finished after the takeover.'

/** The checkout directory a Hermes run was told to work in (its instructions name it). */
function workDir(instructions: string | undefined): string | undefined {
  return /Work only in the directory (\S+) \(this job's checkout/.exec(instructions ?? '')?.[1]
}

// Issue 13, §5: a worker SIGKILLed mid-run. The Hermes run goes on on the house's machine; the
// worker that takes the job over resumes it under the same Idempotency-Key: the run is not
// started twice, the result arrives once, and the stored event log goes on where it stopped.
describe('an agent worker killed with SIGKILL mid-run (Hermes backend)', () => {
  let hermes: RunningHermesDouble
  let child: ChildProcess | undefined
  let rescue: RunningLoop | undefined
  const world = new LoopWorld({
    git: true,
    fileConfig: (c) => {
      const houses = c.houses as Record<string, Record<string, unknown>>
      houses.allegro = {
        ...houses.allegro,
        workspace: 'checkout',
        readOnly: false,
        proofRequired: true,
        approvalRequired: 'none',
        agent: { backend: 'hermes', endpoint: hermes.url, keyEnv: HERMES_KEY_ENV },
      }
      const daemon = c.daemon as Record<string, Record<string, unknown>>
      daemon.workers = { ...daemon.workers, proofCommands: 'same-user', agentProgressMs: 200 }
      return c
    },
  })

  // The child is tsx's wrapper with the real worker under it, in the child's own process group:
  // killing only the wrapper would leave the worker running after the suite (issue 15).
  const killGroup = (): void => {
    if (child?.pid === undefined) return
    try {
      process.kill(-child.pid, 'SIGKILL')
    } catch {
      // The group is already gone.
    }
  }

  beforeAll(async () => {
    hermes = await startHermesDouble({
      script: (req) => {
        // The agent works in the job's checkout on the house's machine (here, this one) first...
        const dir = workDir(req.instructions)
        if (dir) writeFileSync(path.join(dir, 'CRASH.md'), 'written by the hermes agent\n')
        return [
          { kind: 'tool', tool: 'write_file', preview: 'CRASH.md', durationMs: 20 },
          // ...then thinks for a while: the worker dies in here.
          { kind: 'sleep', ms: 5_000 },
          { kind: 'tool', tool: 'terminal', preview: 'git diff --stat', durationMs: 20 },
          { kind: 'complete', output: ANSWER, usage: { inputTokens: 40, outputTokens: 12 } },
        ]
      },
    })
    process.env[HERMES_KEY_ENV] = DEFAULT_DOUBLE_API_KEY
    // allegro's only worker is the child at first.
    await world.start({ ingress: true, router: true, reporter: true, workers: ['ezra'] })
    world.gitea.double.seedCommits(
      world.repo,
      { '.uni-wizard.yaml': 'proof:\n  - name: whitespace\n    argv: [git, diff, --check]\n' },
      'Settings',
    )
  }, 30_000)
  afterAll(async () => {
    killGroup()
    await rescue?.stop()
    await world.stop()
    await hermes?.close()
    delete process.env[HERMES_KEY_ENV]
  })

  it('resumes the run under its key: one run, one ack, one result, and the event log goes on', async () => {
    const issue = await world.openIssue('Write the crash note')
    child = spawn(
      path.join('node_modules', '.bin', 'tsx'),
      ['src/cli/run-main.ts', 'worker', '--house', 'allegro'],
      { env: world.childEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    )
    let out = ''
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()))
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()))
    await until(
      'child worker heartbeat',
      async () => ((await liveness(world.redis, world.prefix, 'allegro')).alive ? true : undefined),
      15_000,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\nchild output:\n${out}`)
    })

    const c = await world.comment('writer', issue, '/implement @allegro write the crash note')
    const ack = await until('the job acknowledged', () =>
      world.botComments(issue).find((b) => b.id > c.id && ackState(b.body)),
    )
    const jobId = ackState(ack.body)!.jobId
    const store = world.services.loop!.store
    const runId = await until('the job record', async () => (await store.getRecord(jobId))?.runId)
    // The agent's first tool call is stored: the Hermes run is now in its sleep.
    await until(
      'the first tool call stored by the child',
      async () => {
        const events = await store.agentEvents(runId)
        return events.some((l) => (JSON.parse(l) as { kind: string }).kind === 'tool.finished') || undefined
      },
      20_000,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\nchild output:\n${out}`)
    })
    expect(hermes.double.startedRuns()).toHaveLength(1)
    const before = await store.agentEvents(runId)
    const exited = new Promise((r) => child!.once('exit', r))
    killGroup() // the wrapper and the real worker under it: the whole machine goes down
    await exited

    // Another allegro worker comes up; the dead worker's lock expires and it takes the job over.
    rescue = await world.startWorkers(['allegro'], 'rescue')
    const final = await world.finalAck(issue, jobId, 25_000)
    expect(ackState(final.body)?.state, final.body).toBe('success')
    await new Promise((r) => setTimeout(r, 300))

    // One run on Hermes: the second POST carried the same key and was a replay.
    expect(hermes.double.startedRuns()).toHaveLength(1)
    const keys = hermes.double.idempotencyKeys()
    expect(keys.length).toBeGreaterThanOrEqual(2)
    expect(new Set(keys)).toEqual(new Set([`uw-${runId}`]))

    // One ack comment, edited to the result; the answer is in it and nowhere else.
    expect(world.acks(issue, jobId)).toHaveLength(1)
    const after = world.botComments(issue).filter((b) => b.id > c.id)
    expect(after).toHaveLength(1)
    expect(after.filter((b) => b.body.includes(ANSWER))).toHaveLength(1)

    // The agent's work from before the takeover is in the pull request.
    const prs = await world.api('writer').listPullRequests(world.repo, { state: 'open', page: 1, limit: 50 })
    const pr = prs.find((p) => p.headRef.startsWith('uw/allegro/issue-'))
    expect(pr, JSON.stringify(prs)).toBeDefined()
    expect(final.body).toContain(`- pull request: #${pr!.number}`)

    // The stored log kept the child's events and goes on with the rescue's: the replayed start,
    // the end of the run, the answer.
    const events = await store.agentEvents(runId)
    expect(events.slice(0, before.length)).toEqual(before)
    const later = events.slice(before.length).map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(later).toContainEqual(expect.objectContaining({ kind: 'run.started', replayed: true }))
    expect(later).toContainEqual(expect.objectContaining({ kind: 'message', text: ANSWER, final: true }))
    expect(events.filter((l) => (JSON.parse(l) as { kind: string }).kind === 'run.started')).toHaveLength(2)

    // The signed statement's event-log digest is the digest of the whole stored log.
    const predicate = world.signedPredicate(final.body) as {
      agent: { eventLog: { sha256: string; events: number }; runId?: string }
    }
    const digest = createHash('sha256')
    for (const l of events) digest.update(`${l}\n`)
    expect(predicate.agent.eventLog).toEqual({ sha256: digest.digest('hex'), events: events.length })
    expect(predicate.agent.runId).toBe(hermes.double.startedRuns()[0])

    const progress = await store.progress(runId)
    expect(progress.started?.worker).not.toContain('rescue') // first started by the child
  }, 60_000)
})
