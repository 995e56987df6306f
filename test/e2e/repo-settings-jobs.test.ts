import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ackState, LoopWorld, until } from './loop-world.js'

// Issue 12 §4: the worker reads olive/demo's `.uni-wizard.yaml` from its default branch (never the
// job's branch or PR head), refuses houses it does not list, notes a bad file once, and runs its
// proof commands on a proof-required house, signing their evidence.
describe('a repository’s .uni-wizard.yaml governs the jobs on it', () => {
  const world = new LoopWorld({
    git: true,
    fileConfig: (c) => {
      const houses = c.houses as Record<string, Record<string, unknown>>
      houses.bezalel = { ...houses.bezalel, workspace: 'checkout', proofRequired: false }
      houses.ezra = { ...houses.ezra, workspace: 'checkout', proofRequired: true }
      const daemon = c.daemon as { workers: Record<string, unknown> }
      daemon.workers = { ...daemon.workers, proofCommands: 'same-user' }
      return c
    },
  })
  let issue = 0

  beforeAll(async () => {
    await world.start()
    world.gitea.double.seedCommits(world.repo, { 'a.txt': 'main\n' }, 'Add a')
    issue = await world.openIssue()
    await world.settle()
  }, 30_000)
  afterAll(() => world.stop())

  const seedSettings = (yaml: string) =>
    world.gitea.double.seedCommits(world.repo, { '.uni-wizard.yaml': yaml }, 'Settings')

  async function runTo(on: number, body: string) {
    const c = await world.comment('writer', on, body)
    const ack = await until(
      `result of "${body}"`,
      () =>
        world
          .botComments(on)
          .filter((b) => b.id > c.id)
          .find((b) =>
            ['success', 'failure', 'denied', 'unverified'].includes(ackState(b.body)?.state ?? ''),
          ),
      20_000,
    )
    const jobId = ackState(ack.body)!.jobId
    const stored = await world.storedResult(jobId)
    return { ack, state: ackState(ack.body)!.state, stored, text: ack.body.replace(/\\/g, '') }
  }

  it('a house the default branch does not list is refused, on an issue and on a PR whose branch lists it', async () => {
    seedSettings('houses: [ezra]\n')
    const onIssue = await runTo(issue, '/run git_status @bezalel')
    expect(onIssue.state).toBe('denied')
    expect(onIssue.text).toContain("olive/demo's .uni-wizard.yaml lets only ezra work on it")
    expect(onIssue.stored.statement).toBeUndefined() // nothing ran

    // A pull request cannot widen the list: its branch's file is not read.
    const d = world.gitea.double
    d.seedCommits(world.repo, { '.uni-wizard.yaml': 'houses: [bezalel, ezra]\n' }, 'Let me in', {
      branch: 'widen',
      from: 'main',
    })
    const pull = d.openPullRequest(world.repo, { title: 'Widen', author: 'wren', head: 'widen' }).number
    await world.settle()
    const onPull = await runTo(pull, '/run git_status @bezalel')
    expect(onPull.state).toBe('denied')
    expect(onPull.text).toContain('lets only ezra work on it')
    const onRef = await runTo(issue, '/run git_status checkout=widen @bezalel')
    expect(onRef.state).toBe('denied')

    const allowed = await runTo(issue, '/run file_read path=a.txt @ezra')
    expect(allowed.state).toBe('success')
  }, 60_000)

  it('a bad file: the defaults apply and the first job on the issue notes it, once per version', async () => {
    seedSettings('houses: [ezra]\nproof: nope\n')
    const first = await runTo(issue, '/run git_status @bezalel')
    expect(first.state).toBe('success') // defaults: every house, and the bad `houses` is not applied
    expect(first.stored.notes.join('\n')).toContain('.uni-wizard.yaml was not used')
    expect(first.stored.notes.join('\n')).toContain('proof')
    expect(first.text).toContain('.uni-wizard.yaml was not used')
    const second = await runTo(issue, '/run git_status @bezalel')
    expect(second.state).toBe('success')
    expect(second.stored.notes.join('\n')).not.toContain('.uni-wizard.yaml')
    // Another bad version is noted again.
    seedSettings('unknown: 1\n')
    const third = await runTo(issue, '/run git_status @bezalel')
    expect(third.stored.notes.join('\n')).toContain('unknown key unknown')
  }, 60_000)

  it('proof commands run on a proof-required house after the tool; their evidence is signed', async () => {
    seedSettings('proof:\n  - name: version\n    argv: [git, --version]\n')
    const ok = await runTo(issue, '/run file_write path=p.txt content=x @ezra')
    expect(ok.state).toBe('success')
    const proof = world.signedPredicate(ok.ack.body).proof as { detail: Record<string, unknown> }[]
    expect(proof).toMatchObject([{ detail: { name: 'version', argv: ['git', '--version'], exitCode: 0 } }])

    // Not on a house without proofRequired.
    const bez = await runTo(issue, '/run git_status @bezalel')
    expect(bez.state).toBe('success')
    expect(world.signedPredicate(bez.ack.body).proof).toBeUndefined()

    seedSettings(
      'proof:\n  - name: version\n    argv: [git, --version]\n  - name: never\n    argv: ["false"]\n',
    )
    const bad = await runTo(issue, '/run file_write path=p.txt content=y @ezra')
    expect(bad.state).toBe('unverified')
    expect(bad.text).toContain('proof never: failed (exit 1)')
    const signed = world.signedPredicate(bad.ack.body)
    expect(signed.status).toBe('unverified')
    expect(signed.proof).toMatchObject([
      { detail: { name: 'version', exitCode: 0 } },
      { detail: { name: 'never', argv: ['false'], exitCode: 1 } },
    ])
  }, 60_000)
})

// By default a worker does not run proof commands: they would run the checked-out code (a pull
// request author's) as the bot's user, which can read the worker's token through /proc.
describe('proof commands are off by default', () => {
  const world = new LoopWorld({
    git: true,
    fileConfig: (c) => {
      const houses = c.houses as Record<string, Record<string, unknown>>
      houses.ezra = { ...houses.ezra, workspace: 'checkout', proofRequired: true }
      return c
    },
  })
  beforeAll(() => world.start(), 30_000)
  afterAll(() => world.stop())

  it('a proof-required job whose repository names proof commands ends unverified, saying why, and runs none', async () => {
    const d = world.gitea.double
    d.seedCommits(
      world.repo,
      { '.uni-wizard.yaml': 'proof:\n  - name: leak\n    argv: [touch, ran.txt]\n' },
      'S',
    )
    const issue = await world.openIssue()
    await world.settle()
    const c = await world.comment('writer', issue, '/run file_write path=p.txt content=x @ezra')
    const ack = await until('result', () =>
      world
        .botComments(issue)
        .filter((b) => b.id > c.id)
        .find((b) => ['success', 'unverified', 'failure'].includes(ackState(b.body)?.state ?? '')),
    )
    expect(ackState(ack.body)?.state).toBe('unverified')
    // (The reason is rendered inert, punctuation escaped.)
    expect(ack.body.replaceAll('\\', '')).toContain(
      'they are off on this worker (daemon.workers.proofCommands: off)',
    )
    expect(ack.body).not.toContain('proof leak')
  }, 60_000)
})
