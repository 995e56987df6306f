import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startModelDouble, type RunningModelDouble } from '../../src/agents/openai/double/index.js'
import { startLoop, type RunningLoop } from '../../src/daemon/start-loop.js'
import { GiteaJsAdapter } from '../../src/gitea/gitea-js-adapter.js'
import { createLogger } from '../../src/logger.js'
import { demoAgentStep } from '../../src/sandbox/demo-agent.js'
import { testRedisUrl } from '../helpers/redis.js'
import { ackState, BOT, LoopWorld, until } from './loop-world.js'

const HOUSE_LOGIN = 'bezalel-bot'
/** The ack's reason (the login is rendered inert: escaped, and no live mention). */
const CHOSEN = /house chosen: assigned to \\@\u2060bezalel\\-bot\\: house bezalel implements this/

// Issue 13, §2: assigning an issue to a house's Gitea login starts `/implement` on it (as
// assigning an issue to Copilot does); unassigning cancels the job while it is still queued.
describe('assigning an issue to a house, end to end', () => {
  let model: RunningModelDouble
  let bezalel: RunningLoop | undefined
  const world = new LoopWorld({
    git: true,
    fileConfig: (c) => {
      const houses = c.houses as Record<string, Record<string, unknown>>
      houses.bezalel = {
        ...houses.bezalel,
        workspace: 'checkout',
        approvalRequired: 'none',
        agent: { backend: 'openai', endpoint: `${model.url}/v1`, model: 'scripted' },
        gitea: { login: HOUSE_LOGIN },
      }
      const daemon = c.daemon as Record<string, Record<string, unknown>>
      daemon.workers = { ...daemon.workers, proofCommands: 'same-user', agentProgressMs: 200 }
      return c
    },
  })

  beforeAll(async () => {
    model = await startModelDouble({ script: (request) => demoAgentStep(request) })
    // bezalel has no worker at first: its jobs stay queued until the test starts one.
    await world.start({ ingress: true, router: true, reporter: true, workers: ['ezra'] })
    world.gitea.double.createUser({ login: HOUSE_LOGIN })
    world.gitea.double.seedCommits(
      world.repo,
      { '.uni-wizard.yaml': 'proof:\n  - name: whitespace\n    argv: [git, diff, --check]\n' },
      'Settings',
    )
  }, 30_000)
  afterAll(async () => {
    await bezalel?.stop()
    await world.stop()
    await model?.close()
  })

  /** Sets an issue's assignees through the double's API, as the writer (Gitea's issue edit). */
  async function assign(issue: number, assignees: string[]): Promise<void> {
    const r = await fetch(`${world.gitea.url}/api/v1/repos/olive/demo/issues/${issue}`, {
      method: 'PATCH',
      headers: { authorization: `token ${world.tokens.writer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ assignees }),
    })
    expect(r.status).toBe(201)
  }
  const ackOf = (issue: number, state?: (s: string) => boolean) =>
    until(
      `the assignment's ack on #${issue}`,
      () => {
        const a = world.botComments(issue).find((b) => ackState(b.body))
        return a && (!state || state(ackState(a.body)!.state)) ? a : undefined
      },
      20_000,
    )

  it('unassigning the house before its job runs cancels the job', async () => {
    const issue = await world.openIssue('Add a changelog, later')
    await world.settle()
    await assign(issue, [HOUSE_LOGIN])
    const queued = await ackOf(issue)
    const jobId = ackState(queued.body)!.jobId
    expect(ackState(queued.body)?.state).toBe('queued')
    expect(queued.body).toMatch(CHOSEN)

    await assign(issue, [])
    const done = await world.finalAck(issue, jobId, 20_000)
    expect(ackState(done.body)?.state, done.body).toBe('cancelled')
    expect((await world.services.loop!.store.getRecord(jobId))?.state).toBe('cancelled')
    // The unassignment says what it cancelled (its reply may land after the cancel's edit); the
    // job never started.
    await until('the unassignment note', () =>
      world
        .botComments(issue)
        .find((b) => !ackState(b.body) && b.body.includes(`unassigned @${HOUSE_LOGIN}`)),
    )
    expect(
      (await world.services.loop!.store.progress((await world.services.loop!.store.getRecord(jobId))!.runId))
        .started,
    ).toBeUndefined()
  }, 30_000)

  it("assigning the house's login starts /implement, which runs to a pull request", async () => {
    bezalel = await startLoop({
      config: world.config,
      log: createLogger({ level: 'silent' }),
      redisUrl: testRedisUrl(),
      port: new GiteaJsAdapter({ baseUrl: world.gitea.url, token: world.tokens.bot }),
      botLogin: BOT,
      pieces: { router: false, reporter: false, workers: ['bezalel'] },
      prefix: world.prefix,
      workerId: 'bezalel-worker',
    })
    const issue = await world.openIssue('Add a changelog')
    await world.settle()
    await assign(issue, [HOUSE_LOGIN])
    const ack = await ackOf(issue)
    expect(ack.body).toMatch(CHOSEN)
    const jobId = ackState(ack.body)!.jobId
    const final = await world.finalAck(issue, jobId, 25_000)
    expect(ackState(final.body)?.state, final.body).toBe('success')
    const rec = await world.services.loop!.store.getRecord(jobId)
    expect(rec).toMatchObject({ tool: 'agent.implement', house: 'bezalel', requester: { login: 'wren' } })
    const prs = await world.api('writer').listPullRequests(world.repo, { state: 'open', page: 1, limit: 50 })
    const pr = prs.find((p) => p.headRef.startsWith(`uw/bezalel/issue-${issue}-`))
    expect(pr, JSON.stringify(prs)).toBeDefined()
    expect(final.body).toContain(`- pull request: #${pr!.number}`)
    expect(world.acks(issue, jobId)).toHaveLength(1)
  }, 40_000)
})
