import { FINAL_STATES } from '../../src/jobs/jobs.js'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ackState, LoopWorld, until, isFinalAck } from './loop-world.js'
import { filesUnder } from '../helpers/files.js'

const FLOW = [
  '/run file_write path=hello.txt content="hello from bezalel" @bezalel',
  '/run git_commit message="Add hello" paths=hello.txt branch=uw/bezalel/hello @bezalel',
  '/run git_push branch=uw/bezalel/hello @bezalel',
  '/run gitea_create_pr repo=olive/demo head=uw/bezalel/hello title="Add hello" @bezalel',
]

// Issue 12, "done when": a writer house's file_write, git_commit, git_push and gitea_create_pr in
// one issue produce a pull request in the double (the jobs share the issue's workspace, in order,
// and push with the bot's token); the same request again opens no second one. The bot's token is
// in no file the jobs leave and in no log line of the whole loop.
describe('the writer flow: four commands in one issue give one pull request', () => {
  const world = new LoopWorld({
    git: true,
    captureLogs: true,
    fileConfig: (c) => {
      const houses = c.houses as Record<string, Record<string, unknown>>
      houses.bezalel = { ...houses.bezalel, workspace: 'checkout', approvalRequired: 'none', mode: 'simple' }
      return c
    },
  })
  let issue = 0

  beforeAll(async () => {
    await world.start()
    issue = await world.openIssue('Say hello')
    await world.settle()
  }, 30_000)
  afterAll(() => world.stop())

  const openPulls = () =>
    world.api('writer').listPullRequests(world.repo, { state: 'open', page: 1, limit: 50 })

  /** Posts a comment and waits for the final ack of each of its `n` jobs, in order. */
  async function runAll(body: string, n: number) {
    const c = await world.comment('writer', issue, body)
    return until(
      `${n} results`,
      () => {
        const acks = world.botComments(issue).filter((b) => b.id > c.id && ackState(b.body))
        const done = acks.filter((a) => isFinalAck(a.body))
        return acks.length === n && done.length === n ? acks : undefined
      },
      60_000,
    )
  }

  it('opens the pull request from the pushed branch with the file', async () => {
    const acks = await runAll(FLOW.join('\n'), 4)
    const states = acks.map((a) => ackState(a.body)?.state)
    expect(states, acks.map((a) => a.body).join('\n----\n')).toEqual([
      'success',
      'success',
      'success',
      'success',
    ])
    const prs = await openPulls()
    expect(prs.map((p) => [p.headRef, p.baseRef])).toEqual([['uw/bezalel/hello', 'main']])
    // The branch is in the double with the commit, and the commit has the file.
    const branch = await world.api('writer').getBranch(world.repo, 'uw/bezalel/hello')
    expect(branch?.commitSha).toBe(prs[0]!.headSha)
    const pull = [...world.gitea.double.repoOf(world.repo).issues.values()].find(
      (i) => i.pull?.headRef === 'uw/bezalel/hello',
    )?.pull
    expect(pull?.files.map((f) => [f.filename, f.status])).toEqual([['hello.txt', 'added']])
    const ids = acks.map((a) => ackState(a.body)!.jobId)
    const commit = await world.storedResult(ids[1]!)
    expect(commit.output).toContain(`committed ${prs[0]!.headSha.slice(0, 12)}`)
    const pushed = await world.storedResult(ids[2]!)
    expect(pushed.output).toContain('pushed uw/bezalel/hello')
    const opened = await world.storedResult(ids[3]!)
    expect(opened.output).toMatch(/opened PR #\d+/)
    // They ran one after another, in the order written (bezalel runs two jobs at once otherwise).
    const records = await Promise.all(ids.map((id) => world.services.loop!.store.getRecord(id)))
    for (let i = 1; i < records.length; i++)
      expect(Date.parse(records[i]!.startedAt!)).toBeGreaterThanOrEqual(
        Date.parse(records[i - 1]!.finishedAt!),
      )
    // Each job after the first continued the work of the one before, in the issue's workspace.
    expect((await world.storedResult(ids[0]!)).checkout?.note).toBeUndefined()
    expect((await world.storedResult(ids[1]!)).checkout?.note).toContain(
      "continues the work in this issue's workspace",
    )
  }, 90_000)

  it('the same request again finds the open pull request instead of opening a second one', async () => {
    const acks = await runAll(FLOW.join('\n'), 4)
    const ids = acks.map((a) => ackState(a.body)!.jobId)
    const opened = await world.storedResult(ids[3]!)
    expect(ackState(acks[3]!.body)?.state).toBe('success')
    expect(opened.output).toMatch(/PR #\d+ already open/)
    expect((await openPulls()).length).toBe(1)
  }, 90_000)

  it('four comments, one command each, in another issue: one more pull request, from their branch', async () => {
    const other = await world.openIssue('Say hello again')
    await world.settle()
    const flow = FLOW.map((l) => l.replace(/hello/g, 'again'))
    const ids: string[] = []
    for (const line of flow) {
      const c = await world.comment('writer', other, line)
      // Posted one after another, each without waiting for the one before to run.
      const ack = await until('the ack', () =>
        world.botComments(other).find((b) => b.id > c.id && ackState(b.body)),
      )
      ids.push(ackState(ack.body)!.jobId)
    }
    const ended = await until(
      'four results',
      async () => {
        const recs = await Promise.all(ids.map((id) => world.services.loop!.store.getRecord(id)))
        return recs.every((r) => r && FINAL_STATES.has(r.state)) ? recs : undefined
      },
      60_000,
    )
    expect(ended.map((r) => r!.state)).toEqual(['success', 'success', 'success', 'success'])
    const prs = await openPulls()
    expect(prs.map((p) => p.headRef).sort()).toEqual(['uw/bezalel/again', 'uw/bezalel/hello'])
  }, 90_000)

  it('leaves the bot token in no file, stored result, comment or log line', async () => {
    const token = world.tokens.bot
    for (const f of filesUnder(world.dir)) expect(readFileSync(f).includes(token), f).toBe(false)
    expect(world.logLines.length).toBeGreaterThan(0)
    expect(world.logLines.filter((l) => l.includes(token))).toEqual([])
    for (const c of world.botComments(issue)) expect(c.body).not.toContain(token)
    const jobs = await world.services.loop!.store.listForIssue(world.repo, issue)
    expect(jobs.length).toBe(8)
    for (const j of jobs) expect(JSON.stringify(await world.storedResult(j.id))).not.toContain(token)
    // The pushes did authenticate: the double saw the bot push its branches.
    expect(
      world.gitea.double.gitRequests.some((r) => r.service === 'receive-pack' && r.login === 'uni-wizard'),
    ).toBe(true)
  }, 30_000)
})
