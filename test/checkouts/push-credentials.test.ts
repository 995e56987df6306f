import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { gitCommit } from '../../src/tools/git/git-commit.js'
import { gitCheckout } from '../../src/tools/git/git-checkout.js'
import { gitPull } from '../../src/tools/git/git-pull.js'
import { gitPush } from '../../src/tools/git/git-push.js'
import type { ToolContext } from '../../src/tools/tool.js'
import { toolContext } from '../tools/tool-context.js'
import { git, makeWorld, signal, sourceRepo, type World } from './fixture.js'
import { filesUnder } from '../helpers/files.js'

const TOKEN = 'push-token-5f0c2a9e71d4'

// Issue 12: git_push (and git_pull, ls-remote) from a job's checkout authenticate to the job's own
// origin with the bot's token, through git's environment only, like the mirror fetch.
describe('push credentials from a checkout', () => {
  let w: World

  beforeEach(async () => {
    w = await makeWorld({ token: TOKEN })
    const api = sourceRepo(w.projectRoot, 'acme', 'api')
    api.commit({ 'README.md': 'v1\n' }, 'first')
    api.push('main')
    git(api.bare, 'symbolic-ref', 'HEAD', 'refs/heads/main')
    const other = sourceRepo(w.projectRoot, 'acme', 'other')
    other.commit({ 'README.md': 'other\n' }, 'first')
    other.push('main')
    git(other.bare, 'symbolic-ref', 'HEAD', 'refs/heads/main')
  })
  afterEach(() => w.cleanup())

  async function checkoutCtx(): Promise<{ ctx: ToolContext; dir: string }> {
    const m = w.manager({ token: () => TOKEN })
    const co = await m.prepare(
      {
        repo: { owner: 'acme', name: 'api' },
        cloneUrl: w.url('acme', 'api'),
        jobId: 'job-push',
        target: { kind: 'default', branch: 'main' },
        workspace: { issue: 1, house: 'bezalel' },
      },
      signal(),
    )
    const ctx = toolContext(
      [co.path],
      { git: { authorName: 'Bot', authorEmail: 'bot@example.invalid' }, http: { allowHosts: ['127.0.0.1'] } },
      { house: 'bezalel', log: w.log, gitOrigin: m.gitOrigin(w.url('acme', 'api')) },
    )
    return { ctx, dir: co.path }
  }

  it('pushes to the origin with the token as a header, and the token is in no file, output or log line', async () => {
    const { ctx, dir } = await checkoutCtx()
    await gitCheckout.run({ repoPath: '.', ref: 'uw/bezalel/fix', create: true }, ctx)
    await import('node:fs/promises').then((fs) => fs.writeFile(path.join(dir, 'fix.txt'), 'fix\n'))
    await gitCommit.run(
      { repoPath: '.', message: 'Fix', paths: ['fix.txt'], all: false, allowEmpty: false },
      ctx,
    )
    const args = { repoPath: '.', remote: 'origin', branch: 'uw/bezalel/fix', setUpstream: false }
    const pushed = await gitPush.run(args, ctx)
    expect(pushed.output).toContain('pushed uw/bezalel/fix')
    const evidence = await gitPush.verify(args, pushed, ctx)
    expect(evidence?.kind).toBe('git-ls-remote')
    const head = git(dir, 'rev-parse', 'HEAD')
    expect(git(path.join(w.projectRoot, 'acme', 'api.git'), 'rev-parse', 'refs/heads/uw/bezalel/fix')).toBe(
      head,
    )
    const pulled = await gitPull.run({ repoPath: '.', remote: 'origin', branch: 'main', ffOnly: true }, ctx)
    expect(pulled.output).toContain('up to date')

    // Every request to the repository carried the token as the header, none in its URL.
    const reqs = w.server.requests.filter((r) => r.url.includes('/acme/api.git/'))
    expect(reqs.some((r) => r.url.includes('git-receive-pack'))).toBe(true)
    expect(reqs.every((r) => r.authorization === `token ${TOKEN}`)).toBe(true)
    expect(w.server.requests.every((r) => !r.url.includes(TOKEN))).toBe(true)
    // Not in the checkout (its .git/config included), the mirror, the records, nor any log line.
    for (const f of filesUnder(w.root)) expect(readFileSync(f).includes(TOKEN), f).toBe(false)
    expect(w.logLines.filter((l) => l.includes(TOKEN))).toEqual([])
    expect(JSON.stringify([pushed, evidence, pulled])).not.toContain(TOKEN)
  }, 30_000)

  it('sends no token to another remote, even on the same server', async () => {
    const { ctx } = await checkoutCtx()
    await gitCheckout.run({ repoPath: '.', ref: 'uw/bezalel/fix', create: true }, ctx)
    const before = w.server.requests.length
    const err = await gitPush
      .run(
        { repoPath: '.', remote: w.url('acme', 'other'), branch: 'uw/bezalel/fix', setUpstream: false },
        ctx,
      )
      .catch((e: unknown) => e as Error)
    expect(err).toBeInstanceOf(Error)
    const sent = w.server.requests.slice(before)
    expect(sent.length).toBeGreaterThan(0)
    expect(sent.every((r) => r.url.includes('/acme/other.git/') && r.authorization === undefined)).toBe(true)
    expect(String((err as Error).message)).not.toContain(TOKEN)
  }, 30_000)

  it('without the origin (no gitOrigin), a push to the private repository is refused by the server', async () => {
    const { ctx } = await checkoutCtx()
    const bare = { ...ctx, gitOrigin: undefined }
    await gitCheckout.run({ repoPath: '.', ref: 'uw/bezalel/fix', create: true }, bare)
    const err = await gitPush
      .run({ repoPath: '.', remote: 'origin', branch: 'uw/bezalel/fix', setUpstream: false }, bare)
      .catch((e: unknown) => e as Error)
    expect(err).toBeInstanceOf(Error)
  }, 30_000)
})
