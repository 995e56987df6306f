import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  startHermesDouble,
  DEFAULT_DOUBLE_API_KEY,
  type RunningHermesDouble,
} from '../../src/agents/hermes/index.js'
import { startModelDouble, type RunningModelDouble } from '../../src/agents/openai/double/index.js'
import { demoAgentStep } from '../../src/sandbox/demo-agent.js'
import { ackState, LoopWorld, until, isFinalAck } from './loop-world.js'
import { filesUnder } from '../helpers/files.js'
import { samples, valueOf } from '../helpers/prom-text.js'

const HERMES_KEY_ENV = 'UW_E2E_HERMES_KEY'

/** The checkout directory a Hermes run was told to work in (its instructions name it). */
function workDir(instructions: string | undefined): string | undefined {
  return /Work only in the directory (\S+) \(this job's checkout/.exec(instructions ?? '')?.[1]
}

// Issue 13, "test doubles and the sandbox": the whole loop on the Gitea double, once per backend:
// /implement → checkout → the agent edits a file → proof → push → PR → commit status → final
// comment; /ask; /review; /cancel mid-run; a dropped event stream; approval of a diff.
describe('agent houses, end to end', () => {
  let model: RunningModelDouble
  let hermes: RunningHermesDouble
  /** What the Hermes double's agent does for a run (set per test). */
  let hermesScript: Parameters<typeof startHermesDouble>[0] extends infer O
    ? O extends { script?: infer S }
      ? S
      : never
    : never
  const world = new LoopWorld({
    git: true,
    captureLogs: true,
    fileConfig: (c) => {
      const houses = c.houses as Record<string, Record<string, unknown>>
      const agent = { backend: 'openai', endpoint: `${model.url}/v1`, model: 'scripted' }
      houses.bezalel = { ...houses.bezalel, workspace: 'checkout', approvalRequired: 'none', agent }
      houses.ezra = { ...houses.ezra, workspace: 'checkout', agent }
      houses.timmy = {
        ...houses.timmy,
        workspace: 'checkout',
        agent,
        approvalRequired: 'none',
        mode: 'simple',
      }
      // allegro is the Hermes house here: an artificer too, asked by name.
      houses.allegro = {
        ...houses.allegro,
        workspace: 'checkout',
        readOnly: false,
        proofRequired: true,
        agent: { backend: 'hermes', endpoint: hermes.url, keyEnv: HERMES_KEY_ENV },
      }
      const daemon = c.daemon as Record<string, Record<string, unknown>>
      daemon.workers = { ...daemon.workers, proofCommands: 'same-user', agentProgressMs: 200 }
      return c
    },
  })
  let issue = 0

  beforeAll(async () => {
    model = await startModelDouble({ script: (request) => demoAgentStep(request) })
    hermes = await startHermesDouble({
      script: (req) =>
        typeof hermesScript === 'function' ? hermesScript(req) : [{ kind: 'complete', output: 'ok' }],
    })
    process.env[HERMES_KEY_ENV] = DEFAULT_DOUBLE_API_KEY
    await world.start()
    world.gitea.double.seedCommits(
      world.repo,
      { '.uni-wizard.yaml': 'proof:\n  - name: whitespace\n    argv: [git, diff, --check]\n' },
      'Settings',
    )
    issue = await world.openIssue('Add a changelog')
    await world.settle()
  }, 30_000)
  afterAll(async () => {
    await world.stop()
    await model?.close()
    await hermes?.close()
    delete process.env[HERMES_KEY_ENV]
  })

  /** Posts a comment and waits for the final state of the one job it starts. */
  async function runTask(body: string, who: 'writer' | 'sovereign' = 'writer', on = issue, ms = 60_000) {
    const c = await world.comment(who, on, body)
    return until(
      `the result of ${body}`,
      () => {
        const ack = world.botComments(on).find((b) => b.id > c.id && ackState(b.body))
        return ack && isFinalAck(ack.body) ? ack : undefined
      },
      ms,
    )
  }
  const pulls = () => world.api('writer').listPullRequests(world.repo, { state: 'open', page: 1, limit: 50 })

  it('/implement on the OpenAI-compatible backend: edits through tools, proves, pushes and opens a WIP pull request with a status', async () => {
    const ack = await runTask('/implement add a changelog')
    expect(ackState(ack.body)?.state, ack.body).toBe('success')
    const prs = await pulls()
    const pr = prs.find((p) => p.headRef.startsWith('uw/bezalel/issue-'))
    expect(pr, JSON.stringify(prs)).toBeDefined()
    expect(pr!.title).toMatch(/^WIP: /)
    const body = [...world.gitea.double.repoOf(world.repo).issues.values()].find(
      (i) => i.number === pr!.number,
    )?.body as string
    expect(body).toContain(`Refs #${issue}`)
    expect(body).toContain('`whitespace`')
    // The branch holds the agent's file; the PR head has the bot's success status.
    const branch = await world.api('writer').getBranch(world.repo, pr!.headRef)
    expect(branch?.commitSha).toBe(pr!.headSha)
    const statuses = world.gitea.double.statusesOf(world.repo, pr!.headSha)
    expect(statuses.map((s) => [s.context, s.state])).toContainEqual([
      'uni-wizard/bezalel/implement',
      'success',
    ])
    // The final comment links the PR, shows the proof and the steps, and verifies.
    expect(ack.body).toContain(`- pull request: #${pr!.number}`)
    expect(ack.body).toMatch(/- proof `whitespace`: passed/)
    expect(ack.body).toMatch(/`file_write`.*success/)
    const predicate = world.signedPredicate(ack.body) as {
      agent: { diffSha256?: string; pullRequest?: { number: number } }
    }
    expect(predicate.agent.pullRequest?.number).toBe(pr!.number)
    expect(predicate.agent.diffSha256).toMatch(/^[0-9a-f]{64}$/)
  }, 90_000)

  it('/ask answers from a read-only checkout and cites what it read', async () => {
    const ack = await runTask('/ask what does the README say?')
    expect(ackState(ack.body)?.state, ack.body).toBe('success')
    expect(ack.body).toContain('README.md begins with: "# demo"')
    expect(ack.body).toMatch(/- files read: `README\.md` \(`sha256:[0-9a-f]{12}`\)/)
    expect(ack.body).toContain('house chosen: by role')
  }, 60_000)

  it('/metrics shows the agent runs so far by house, task and outcome, their tokens and the budget left', async () => {
    const all = samples(await (await fetch(`${world.services.httpUrl}/metrics`)).text())
    const runs = all.filter((s) => s.name === 'uw_agent_runs_total')
    // The two tests above: /implement went to bezalel; /ask to the house its role names.
    expect(runs.map((r) => [r.labels.task, r.labels.outcome, r.value]).sort()).toEqual([
      ['ask', 'success', 1],
      ['implement', 'success', 1],
    ])
    expect(runs.find((r) => r.labels.task === 'implement')?.labels.house).toBe('bezalel')
    for (const house of new Set(runs.map((r) => r.labels.house as string))) {
      const used = valueOf(all, 'uw_agent_tokens_total', { house }) ?? 0
      expect(used, house).toBeGreaterThan(0)
      // Every token was counted by this process, and the budget in Redis agrees.
      expect(valueOf(all, 'uw_agent_budget_tokens_left', { house })).toBe(2_000_000 - used)
    }
  })

  it('/review on a pull request posts a comment-only review', async () => {
    const prs = await pulls()
    const pr = prs[0]!
    const ack = await runTask('/review', 'writer', pr.number)
    expect(ackState(ack.body)?.state, ack.body).toBe('success')
    const reviews = world.gitea.double.reviews(world.repo, pr.number)
    expect(reviews).toHaveLength(1)
    expect(reviews[0]).toMatchObject({ state: 'COMMENT' })
    expect(reviews[0]!.body).toContain('I read the diff')
  }, 60_000)

  it('/implement on the Hermes backend: the agent works in the checkout it is told, through a dropped event stream', async () => {
    hermesScript = (req) => {
      const dir = workDir(req.instructions)
      if (dir) writeFileSync(path.join(dir, 'HERMES.md'), 'written by the hermes agent\n')
      return [
        { kind: 'tool', tool: 'write_file', preview: 'HERMES.md', durationMs: 20 },
        { kind: 'dropStream' },
        { kind: 'sleep', ms: 300 },
        { kind: 'complete', output: 'I wrote HERMES.md.', usage: { inputTokens: 50, outputTokens: 10 } },
      ]
    }
    const ack = await runTask('/implement @allegro write the hermes note')
    expect(ackState(ack.body)?.state, ack.body).toBe('success')
    expect(hermes.double.startedRuns()).toHaveLength(1)
    expect(ack.body).toContain('event stream lost')
    expect((await pulls()).some((p) => p.headRef.startsWith('uw/allegro/issue-'))).toBe(true)
  }, 90_000)

  it('/cancel stops a running Hermes run', async () => {
    hermesScript = () => [
      { kind: 'sleep', ms: 60_000 },
      { kind: 'complete', output: 'too late' },
    ]
    const c = await world.comment('writer', issue, '/ask @allegro take your time')
    const ack = await until(
      'running',
      () => {
        const a = world.botComments(issue).find((b) => b.id > c.id && ackState(b.body)?.state === 'running')
        return a
      },
      30_000,
    )
    const jobId = ackState(ack.body)!.jobId
    await world.comment('writer', issue, `/cancel ${jobId}`)
    const done = await world.finalAck(issue, jobId, 30_000)
    expect(ackState(done.body)?.state, done.body).toBe('cancelled')
    expect(hermes.double.requests.some((r) => r.method === 'POST' && r.path.endsWith('/stop'))).toBe(true)
  }, 60_000)

  it('no planted secret is in any log line, stored event or comment', async () => {
    const secrets = [world.tokens.bot, DEFAULT_DOUBLE_API_KEY]
    const everything = [
      ...world.logLines,
      ...world.botComments(issue).map((c) => c.body),
      ...filesUnder(world.dir)
        .filter((f) => !f.includes(`${path.sep}keys${path.sep}`))
        .map((f) => f),
    ].join('\n')
    for (const s of secrets) expect(everything.includes(s)).toBe(false)
  })
})
