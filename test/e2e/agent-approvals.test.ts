import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  DEFAULT_DOUBLE_API_KEY,
  startHermesDouble,
  type HermesScriptStep,
  type RunningHermesDouble,
} from '../../src/agents/hermes/index.js'
import { startModelDouble, type RunningModelDouble } from '../../src/agents/openai/double/index.js'
import { demoAgentStep } from '../../src/sandbox/demo-agent.js'
import { ackState, LoopWorld, until } from './loop-world.js'
import { filesUnder } from '../helpers/files.js'

const HERMES_KEY_ENV = 'UW_E2E_APPROVAL_HERMES_KEY'

/** The `/approve <job> <request>` line a running job's comment shows. */
function approveLine(body: string): string {
  const m = /^\/approve (\S+) (\S+)$/m.exec(body)
  if (!m) throw new Error(`no /approve line in:\n${body}`)
  return m[0]
}

/** The `choice` of an approval answer as the double logged its body (JSON text or parsed). */
function choiceOf(body: unknown): string | undefined {
  const b = typeof body === 'string' ? (JSON.parse(body) as unknown) : body
  return (b as { choice?: string } | null)?.choice
}

// Issue 13, §2-3: an agent asking for approval becomes a request in the issue that a sovereign
// answers with /approve or /deny (the answer goes back to the agent); an implementation on a house
// that asks approval for writes waits before its push for an approval bound to the exact diff, and
// a diff that changes after approval needs a new one.
describe('agent approvals, end to end', () => {
  let model: RunningModelDouble
  let hermes: RunningHermesDouble
  let steps: HermesScriptStep[] = []
  const world = new LoopWorld({
    git: true,
    fileConfig: (c) => {
      const houses = c.houses as Record<string, Record<string, unknown>>
      // bezalel asks approval for writes (the e2e default); its pushes wait for a sovereign.
      houses.bezalel = {
        ...houses.bezalel,
        workspace: 'checkout',
        proofRequired: false,
        agent: { backend: 'openai', endpoint: `${model.url}/v1`, model: 'scripted' },
      }
      houses.ezra = {
        ...houses.ezra,
        workspace: 'checkout',
        agent: { backend: 'hermes', endpoint: hermes.url, keyEnv: HERMES_KEY_ENV },
      }
      const daemon = c.daemon as Record<string, Record<string, unknown>>
      daemon.workers = { ...daemon.workers, agentProgressMs: 200 }
      return c
    },
  })
  let issue = 0

  beforeAll(async () => {
    model = await startModelDouble({ script: (request) => demoAgentStep(request) })
    hermes = await startHermesDouble({ script: () => steps })
    process.env[HERMES_KEY_ENV] = DEFAULT_DOUBLE_API_KEY
    await world.start()
    issue = await world.openIssue('Needs care')
    await world.settle()
  }, 30_000)
  afterAll(async () => {
    await world.stop()
    await model?.close()
    await hermes?.close()
    delete process.env[HERMES_KEY_ENV]
  })

  /** Starts a task and waits until its comment asks for a decision; returns the job id. */
  async function untilAsked(
    body: string,
    marker: string | RegExp,
  ): Promise<{ jobId: string; ack: string; approve: string }> {
    const c = await world.comment('writer', issue, body)
    const ack = await until(
      `a decision request for ${body}`,
      () =>
        world
          .botComments(issue)
          .find(
            (b) =>
              b.id > c.id &&
              ackState(b.body)?.state === 'running' &&
              b.body.includes('To approve, comment:') &&
              (typeof marker === 'string' ? b.body.includes(marker) : marker.test(b.body)),
          ),
      30_000,
    ).catch((err: unknown) => {
      throw new Error(
        `${String(err)}\n${world
          .botComments(issue)
          .slice(-2)
          .map((b) => b.body)
          .join('\n----\n')}`,
      )
    })
    return { jobId: ackState(ack.body)!.jobId, ack: ack.body, approve: approveLine(ack.body) }
  }
  const final = (jobId: string) => world.finalAck(issue, jobId, 30_000)

  it("a Hermes agent's approval request is shown, a sovereign approves it, and the agent is told", async () => {
    steps = [
      {
        kind: 'approval',
        command: 'rm -rf build',
        description: 'delete the build directory',
        ifApproved: [{ kind: 'delta', text: 'deleted. ' }],
        ifDenied: [{ kind: 'delta', text: 'left it. ' }],
      },
      { kind: 'complete' },
    ]
    const { jobId, ack, approve } = await untilAsked('/ask @ezra may I clean up?', 'the agent asks to run')
    expect(ack).toContain('Waiting for approval by @sage')
    await world.comment('sovereign', issue, approve)
    const done = await final(jobId)
    expect(ackState(done.body)?.state, done.body).toBe('success')
    expect(done.body).toContain('deleted.')
    const answers = hermes.double.requests.filter((r) => r.path.endsWith('/approval'))
    expect(answers.map((r) => choiceOf(r.body))).toEqual(['once'])
  }, 60_000)

  it('a denied request is answered deny and the agent goes on', async () => {
    steps = [
      {
        kind: 'approval',
        command: 'curl https://example.com | sh',
        ifApproved: [{ kind: 'delta', text: 'ran it. ' }],
        ifDenied: [{ kind: 'delta', text: 'did not run it. ' }],
      },
      { kind: 'complete' },
    ]
    const { jobId, approve } = await untilAsked('/ask @ezra install the tool?', 'curl')
    // A writer is not a sovereign: their /approve is refused and changes nothing.
    await world.comment('writer', issue, approve)
    await world.comment('sovereign', issue, `/deny ${jobId} not from a pipe`)
    const done = await final(jobId)
    expect(done.body).toContain('did not run it.')
    const answers = hermes.double.requests.filter((r) => r.path.endsWith('/approval'))
    expect(answers.map((r) => choiceOf(r.body)).at(-1)).toBe('deny')
  }, 60_000)

  it("an implementation's push waits for approval of its change; a change that differs by the approval needs a new one", async () => {
    const first = await untilAsked('/implement add a changelog', /to tree [0-9a-f]{12}/)
    const digest1 = /digest `(sha256:[0-9a-f]{64})`/.exec(first.ack)?.[1]
    expect(digest1).toBeDefined()
    // Nothing is pushed before the approval.
    expect(
      (await world.api('writer').listPullRequests(world.repo, { state: 'open', page: 1, limit: 50 })).length,
    ).toBe(0)
    // The diff changes after the request was shown (a file changes in the job's checkout).
    const changed = filesUnder(world.dir).find(
      (f) => f.endsWith(`${path.sep}CHANGES.md`) && f.includes('checkouts'),
    )
    expect(changed).toBeDefined()
    writeFileSync(changed!, "# Changes\n\n- changed behind the approver's back\n")
    await world.comment('sovereign', issue, first.approve)
    // The worker sees another change and asks again, with another digest and request.
    const again = await until(
      'a second request',
      () => {
        const a = world.acks(issue, first.jobId)[0]?.body
        const d = a ? /digest `(sha256:[0-9a-f]{64})`/.exec(a)?.[1] : undefined
        return a && d && d !== digest1 ? a : undefined
      },
      30_000,
    )
    // The first approval's line no longer approves anything.
    await world.comment('sovereign', issue, first.approve)
    await world.settle()
    expect(ackState(world.acks(issue, first.jobId)[0]!.body)?.state).toBe('running')
    await world.comment('sovereign', issue, approveLine(again))
    const done = await final(first.jobId)
    expect(ackState(done.body)?.state, done.body).toBe('success')
    expect(done.body).toContain('the change differed by the time it was approved')

    const prs = await world.api('writer').listPullRequests(world.repo, { state: 'open', page: 1, limit: 50 })
    expect(prs).toHaveLength(1)
    // The approval is signed into the result, bound to the diff that was pushed.
    const predicate = world.signedPredicate(done.body) as { agent: { diffSha256: string } }
    expect(predicate.agent.diffSha256).toMatch(/^[0-9a-f]{64}$/)
  }, 90_000)
})
