import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyResultComment } from '../../src/report/check-result-comment.js'
import { KeyStore } from '../../src/provenance/key-store.js'
import { ackState, LoopWorld, until } from './loop-world.js'

// Issue 12 §1: a job runs in its own checkout of the issue's repository (the double hosts
// olive/demo as a real git repository over HTTP; real router, workers, git and Redis).
describe('jobs run in a checkout of the issue repository', () => {
  const world = new LoopWorld({
    git: true,
    fileConfig: (c) => {
      const houses = c.houses as Record<string, Record<string, unknown>>
      houses.bezalel = { ...houses.bezalel, workspace: 'checkout', proofRequired: false }
      houses.ezra = { ...houses.ezra, workspace: 'checkout' }
      return c
    },
  })
  let issue = 0
  let mainSha = ''
  let fixSha = ''
  let pull = 0

  beforeAll(async () => {
    await world.start()
    const d = world.gitea.double
    mainSha = d.seedCommits(world.repo, { 'a.txt': 'main\n' }, 'Add a')
    fixSha = d.seedCommits(world.repo, { 'a.txt': 'fix\n' }, 'Fix a', { branch: 'fix', from: 'main' })
    pull = d.openPullRequest(world.repo, { title: 'Fix a', author: 'wren', head: 'fix' }).number
    issue = await world.openIssue()
    await world.settle()
  }, 30_000)
  afterAll(() => world.stop())

  async function runTo(on: number, body: string, states: string[]) {
    const c = await world.comment('writer', on, body)
    const ack = await until(
      `ack of "${body}"`,
      () =>
        world
          .botComments(on)
          .filter((b) => b.id > c.id)
          .find((b) => states.includes(ackState(b.body)?.state ?? '')),
      20_000,
    )
    return { ack, jobId: ackState(ack.body)!.jobId }
  }

  it('an issue job runs at the head of the default branch; the commit is stored and signed', async () => {
    const { ack, jobId } = await runTo(issue, '/run git_status @bezalel', ['success', 'failure'])
    expect(ackState(ack.body)?.state).toBe('success')
    expect(ack.body).toContain(`detached HEAD ${mainSha.slice(0, 12)}`)
    const result = await world.storedResult(jobId)
    expect(result.checkout).toMatchObject({ commit: mainSha, repo: 'olive/demo', target: 'head of main' })
    expect(world.signedPredicate(ack.body).resolvedDependencies).toEqual([
      {
        uri: `git+${world.gitea.url}/olive/demo.git@${mainSha}`,
        digest: { gitCommit: mainSha },
        annotations: { repo: 'olive/demo', target: 'head of main' },
      },
    ])
    // The comment shows the commit, and verify checks that line against the statement like the others.
    expect(ack.body).toContain(`- commit: \`${mainSha}\` of \`olive/demo\` (\`head of main\`)`)
    const keys = new KeyStore(world.keyDir).publicKeys().map((k) => k.publicKey)
    expect(verifyResultComment(ack.body, keys)).toMatchObject({ ok: true })
    const edited = ack.body.replace(`- commit: \`${mainSha}\``, `- commit: \`${'0'.repeat(40)}\``)
    expect(verifyResultComment(edited, keys)).toMatchObject({ ok: false, field: 'commit' })
    // The bot's token is in neither the comment nor the stored result (statement included).
    expect(ack.body).not.toContain(world.tokens.bot)
    expect(JSON.stringify(result)).not.toContain(world.tokens.bot)
  }, 30_000)

  it('a pull request job runs at the PR head commit', async () => {
    const { ack, jobId } = await runTo(pull, '/run file_read path=a.txt @bezalel', ['success', 'failure'])
    expect(ackState(ack.body)?.state).toBe('success')
    expect(ack.body).toContain('fix')
    expect((await world.storedResult(jobId)).checkout).toMatchObject({
      commit: fixSha,
      target: `PR #${pull} head`,
    })
    expect(world.signedPredicate(ack.body).resolvedDependencies).toMatchObject([
      { digest: { gitCommit: fixSha } },
    ])
    // §3: the PR head gets a pending status when the job is queued, then the verdict, both under one
    // stable context and linking to the job's comment.
    const statuses = await until('final commit status', () => {
      const all = world.gitea.double.statusesOf(world.repo, fixSha)
      return all.some((s) => s.state === 'success') ? all : undefined
    })
    expect(statuses.map((s) => [s.state, s.context])).toEqual([
      ['pending', 'uni-wizard/bezalel/file_read'],
      ['success', 'uni-wizard/bezalel/file_read'],
    ])
    expect(statuses.every((s) => s.targetUrl.endsWith(`#issuecomment-${ack.id}`))).toBe(true)
  }, 30_000)

  it('checkout= and ref= (for a tool without its own ref) pick another commit; a bad ref is refused', async () => {
    const byCheckout = await runTo(issue, '/run git_status checkout=fix @bezalel', ['success', 'failure'])
    expect(byCheckout.ack.body).toContain(`detached HEAD ${fixSha.slice(0, 12)}`)
    expect((await world.storedResult(byCheckout.jobId)).checkout?.target).toBe('ref fix')
    const byRef = await runTo(issue, `/run file_read path=a.txt ref=${fixSha} @bezalel`, [
      'success',
      'failure',
    ])
    expect((await world.storedResult(byRef.jobId)).checkout?.commit).toBe(fixSha)
    expect(byRef.ack.body).toContain('fix')

    const before = world.botComments(issue).length
    const bad = await world.comment('writer', issue, '/run git_status checkout=--upload-pack=x @bezalel')
    const reply = await until('the refusal', () =>
      world
        .botComments(issue)
        .find((b) => b.id > bad.id && b.body.includes('is not a branch, tag or commit')),
    )
    expect(reply.body).toContain('checkout=--upload-pack=x')
    expect(ackState(reply.body)).toBeUndefined()
    await world.settle()
    expect(world.botComments(issue).length).toBe(before + 1)
  }, 30_000)

  // Changed with issue workspaces: jobs of one issue now share its workspace (in order), so the
  // separation this test guards is between issues: two jobs at once in two issues.
  it('two jobs at once on one repository, in two issues, work in separate workspaces', async () => {
    const other = await world.openIssue('Another')
    await world.settle()
    const cs = await Promise.all([
      world.comment('writer', issue, '/run file_write path=note.txt content=one @ezra'),
      world.comment('writer', other, '/run file_write path=note.txt content=two @ezra'),
    ])
    const done = (on: number, after: number) =>
      world
        .botComments(on)
        .find(
          (b) =>
            b.id > after &&
            b.body.includes('`file_write`') &&
            ['success', 'failure'].includes(ackState(b.body)?.state ?? ''),
        )
    const acks = await until(
      'both results',
      () => {
        const a = done(issue, cs[0].id)
        const b = done(other, cs[1].id)
        return a && b ? [a, b] : undefined
      },
      20_000,
    )
    expect(acks.map((a) => ackState(a.body)?.state)).toEqual(['success', 'success'])
    const pathOf = async (jobId: string) => {
      const s = await world.storedResult(jobId)
      const ev = s.statement?.predicate.evidence[0]?.detail as { path?: string } | undefined
      return ev?.path ?? ''
    }
    const [p1, p2] = await Promise.all(acks.map((a) => pathOf(ackState(a.body)!.jobId)))
    const workspaces = join(world.config.env.UW_DATA_DIR, 'checkouts', 'workspaces')
    expect(p1).toContain(workspaces)
    expect(p2).toContain(workspaces)
    expect(p1, `${p1} ${p2}`).not.toBe(p2)
    // Each workspace keeps its own write (for the next job of its issue), never the other's.
    expect(readFileSync(p1!, 'utf8')).toBe('one')
    expect(readFileSync(p2!, 'utf8')).toBe('two')
    // The next job of the first issue continues its work and sees its file; another house's
    // workspace of the same issue does not, and neither write reached the repository.
    const next = await runTo(issue, '/run file_read path=note.txt @ezra', ['success', 'failure'])
    expect(ackState(next.ack.body)?.state).toBe('success')
    expect((await world.storedResult(next.jobId)).checkout?.note).toContain(
      "continues the work in this issue's workspace",
    )
    const after = await runTo(issue, '/run file_read path=note.txt @bezalel', ['success', 'failure'])
    expect(ackState(after.ack.body)?.state).toBe('failure')
  }, 40_000)

  it('a repository the bot cannot fetch fails the job with a clear reason', async () => {
    const d = world.gitea.double
    const other = d.createRepo({ owner: 'olive', name: 'plain' }) // not hosted: its clone URL is 404
    d.addCollaborator(other, 'uni-wizard', 'admin')
    d.addCollaborator(other, 'wren', 'write')
    d.addHook(other, {
      url: `${world.services.httpUrl}/webhooks/gitea`,
      secret: 'e2e-webhook-secret',
      contentType: 'json',
    })
    const n = (await world.api('writer').createIssue(other, { title: 'x', body: 'y' })).number
    await world.settle()
    const c = await world.api('writer').createComment(other, n, '/run git_status @bezalel')
    const botId = d.store.userByLogin('uni-wizard')?.id
    const ack = await until(
      'the failure',
      () =>
        d
          .comments(other, n)
          .filter((b) => b.id > c.id && b.posterId === botId)
          .find((b) => ackState(b.body)?.state === 'failure'),
      20_000,
    )
    // User-facing text is escaped (inert markdown): compare without the backslashes.
    const text = ack.body.replace(/\\/g, '')
    expect(text).toContain(
      'could not check out olive/plain: the repository olive/plain was not found on Gitea',
    )
    expect(ack.body).not.toContain(world.tokens.bot)
  }, 40_000)
})
