import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startGiteaDouble, type RunningGiteaDouble } from '../../src/gitea/double/index.js'
import { GiteaError } from '../../src/gitea/gitea-error.js'
import { GiteaJsAdapter } from '../../src/gitea/gitea-js-adapter.js'
import type { RepoRef } from '../../src/gitea/port.js'

const run = promisify(execFile)

// The double hosts real git repositories: a real git client clones, fetches and pushes over
// HTTP with Gitea's token rules, and the API sees what was pushed.
describe('Gitea double: hosted git repositories over smart HTTP', () => {
  let running: RunningGiteaDouble
  let work: string
  let tokens: Record<'alice' | 'bot' | 'rory' | 'eve', string>
  let demo: RepoRef
  let secret: RepoRef
  let initial: string

  /** A git client with no system or global config and no credential prompts. */
  const git = async (cwd: string, args: string[]) => {
    const { stdout } = await run('git', args, {
      cwd,
      env: {
        PATH: process.env.PATH,
        HOME: work,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_TERMINAL_PROMPT: '0',
        GIT_AUTHOR_NAME: 't',
        GIT_AUTHOR_EMAIL: 't@localhost',
        GIT_COMMITTER_NAME: 't',
        GIT_COMMITTER_EMAIL: 't@localhost',
      },
    })
    return stdout.trim()
  }
  /** Like `git`, but returns the failure's output instead of throwing. */
  const gitFails = async (cwd: string, args: string[]): Promise<string> => {
    try {
      await git(cwd, args)
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string }
      return `${e.stdout ?? ''}${e.stderr ?? ''}`
    }
    throw new Error(`git ${args.join(' ')} succeeded`)
  }
  const header = (token: string) => ['-c', `http.extraHeader=Authorization: token ${token}`]
  const basicUrl = (ref: RepoRef, user: string, password: string) =>
    running.double.cloneUrl(ref).replace('http://', `http://${user}:${password}@`)
  const adapter = (token: string) =>
    new GiteaJsAdapter({ baseUrl: running.url, token, retry: { attempts: 1 } })

  beforeEach(async () => {
    work = mkdtempSync(join(tmpdir(), 'double-git-test-'))
    running = await startGiteaDouble()
    const d = running.double
    tokens = {
      alice: d.createUser({ login: 'alice' }).token,
      bot: d.createUser({ login: 'gitea-bot' }).token,
      rory: d.createUser({ login: 'rory' }).token,
      eve: d.createUser({ login: 'eve' }).token,
    }
    demo = d.createRepo({ owner: 'alice', name: 'demo', git: true })
    secret = d.createRepo({
      owner: 'alice',
      name: 'secret',
      git: true,
      private: true,
      defaultBranch: 'trunk',
    })
    for (const repo of [demo, secret]) {
      d.addCollaborator(repo, 'gitea-bot', 'write')
      d.addCollaborator(repo, 'rory', 'read')
    }
    initial = d.seedCommits(demo, { 'README.md': '# demo\n' }, 'Initial commit')
    d.seedCommits(secret, { 'SECRET.md': 'hush\n' }, 'Initial commit')
  })

  afterEach(async () => {
    try {
      running.double.assertContract()
    } finally {
      await running.stop()
      rmSync(work, { recursive: true, force: true })
    }
  })

  it('clones a public repository anonymously, at the seeded commit', async () => {
    await git(work, ['clone', '-q', running.double.cloneUrl(demo), 'demo'])
    expect(readFileSync(join(work, 'demo', 'README.md'), 'utf8')).toBe('# demo\n')
    expect(await git(join(work, 'demo'), ['rev-parse', 'HEAD'])).toBe(initial)
    expect(running.double.cloneUrl(demo)).toBe(`${running.url}/alice/demo.git`)
  })

  it('a private repository needs a token: none or a wrong one is 401 with Gitea’s realm', async () => {
    const url = running.double.cloneUrl(secret)
    expect(await gitFails(work, ['clone', '-q', url, 'a'])).toMatch(
      /Authentication failed|could not read Username/,
    )
    expect(await gitFails(work, [...header('not-a-token'), 'clone', '-q', url, 'b'])).toMatch(
      /Authentication failed|could not read Username/,
    )
    expect(await gitFails(work, ['clone', '-q', basicUrl(secret, 'x', 'wrong'), 'c'])).toMatch(
      /Authentication failed/,
    )
    // Every request was refused before git ran: nothing but 401s, and no caller recognised.
    expect(running.double.gitRequests.length).toBeGreaterThanOrEqual(3)
    expect(running.double.gitRequests.every((r) => r.status === 401 && r.login === undefined)).toBe(true)
    const res = await fetch(`${url}/info/refs?service=git-upload-pack`)
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="Gitea"')
    expect(existsSync(join(work, 'a', 'SECRET.md'))).toBe(false)
  })

  it.each([
    ['the token as password, any user name', (t: string) => ['clone', '-q', basicUrl(secret, 'anyone', t)]],
    ['the token as user name', (t: string) => ['clone', '-q', basicUrl(secret, t, 'x-oauth-basic')]],
    [
      'Authorization: token <t>',
      (t: string) => [...header(t), 'clone', '-q', `${running.url}/alice/secret.git`],
    ],
  ])('a reader clones a private repository with %s', async (_name, args) => {
    await git(work, [...args(tokens.rory), 'out'])
    expect(readFileSync(join(work, 'out', 'SECRET.md'), 'utf8')).toBe('hush\n')
    expect(await git(join(work, 'out'), ['symbolic-ref', '--short', 'HEAD'])).toBe('trunk')
    expect(running.double.gitRequests.at(-1)).toMatchObject({
      login: 'rory',
      service: 'upload-pack',
      status: 200,
    })
  })

  it('a signed-in user without access to a private repository gets 404, like Gitea', async () => {
    const res = await fetch(`${running.double.cloneUrl(secret)}/info/refs?service=git-upload-pack`, {
      headers: { Authorization: `token ${tokens.eve}` },
    })
    expect(res.status).toBe(404)
    expect(await res.text()).toBe('Repository not found')
  })

  it('a writer pushes a branch; the API shows it with its commit', async () => {
    await git(work, ['clone', '-q', running.double.cloneUrl(demo), 'w'])
    const dir = join(work, 'w')
    await git(dir, ['checkout', '-q', '-b', 'uw/bezalel/fix'])
    writeFileSync(join(dir, 'fix.txt'), 'fixed\n')
    await git(dir, ['add', 'fix.txt'])
    await git(dir, ['commit', '-q', '-m', 'Fix'])
    const sha = await git(dir, ['rev-parse', 'HEAD'])
    await git(dir, [...header(tokens.bot), 'push', '-q', 'origin', 'uw/bezalel/fix'])

    expect(running.double.branches(demo).get('uw/bezalel/fix')).toBe(sha)
    const bot = adapter(tokens.bot)
    expect(await bot.getBranch(demo, 'uw/bezalel/fix')).toEqual({
      name: 'uw/bezalel/fix',
      commitSha: sha,
      protected: false,
    })
    expect(await bot.getBranch(demo, 'nope')).toBeUndefined()
    expect(running.double.gitRequests.at(-1)).toMatchObject({
      login: 'gitea-bot',
      service: 'receive-pack',
      status: 200,
    })
    // The token never travels in a URL the double saw.
    expect(running.double.gitRequests.some((r) => r.url.includes(tokens.bot))).toBe(false)
  })

  it('a push without a token is 401; a reader’s push is declined by the pre-receive check', async () => {
    await git(work, ['clone', '-q', running.double.cloneUrl(demo), 'r'])
    const dir = join(work, 'r')
    await git(dir, ['checkout', '-q', '-b', 'reader-branch'])
    await git(dir, ['commit', '-q', '--allow-empty', '-m', 'x'])
    expect(await gitFails(dir, ['push', '-q', 'origin', 'reader-branch'])).toMatch(
      /Authentication failed|could not read Username/,
    )
    const res = await fetch(`${running.double.cloneUrl(demo)}/info/refs?service=git-receive-pack`)
    expect(res.status).toBe(401)
    const declined = await gitFails(dir, [...header(tokens.rory), 'push', 'origin', 'reader-branch'])
    expect(declined).toContain('User permission denied for writing')
    expect(declined).toContain('pre-receive hook declined')
    expect(running.double.branches(demo).has('reader-branch')).toBe(false)
  })

  it('refuses pushes to a protected branch and the deletion of the default branch', async () => {
    running.double.protectBranch(demo, 'main')
    await git(work, ['clone', '-q', running.double.cloneUrl(demo), 'p'])
    const dir = join(work, 'p')
    await git(dir, ['commit', '-q', '--allow-empty', '-m', 'direct'])
    const out = await gitFails(dir, [...header(tokens.alice), 'push', 'origin', 'main'])
    expect(out).toContain('Not allowed to push to protected branch main')
    expect(running.double.branches(demo).get('main')).toBe(initial)
    expect((await adapter(tokens.bot).getBranch(demo, 'main'))?.protected).toBe(true)
    const deletion = await gitFails(dir, [...header(tokens.alice), 'push', 'origin', ':main'])
    expect(deletion).toMatch(/default branch and cannot be deleted|protected branch main/)
  })

  it('opens a pull request from a pushed branch; a second one for the same head is 409', async () => {
    const d = running.double
    d.addHook(demo, { url: 'http://127.0.0.1:9/hook', secret: 's', contentType: 'json' })
    const head = d.seedCommits(demo, { 'a.txt': 'a\n', 'README.md': '# demo!\n' }, 'Work', {
      branch: 'uw/bezalel/a',
    })
    const bot = adapter(tokens.bot)
    const pr = await bot.createPullRequest(demo, {
      head: 'uw/bezalel/a',
      base: 'main',
      title: 'WIP: Add a',
      body: 'From the bot',
    })
    expect(pr).toMatchObject({
      number: 1,
      headRef: 'uw/bezalel/a',
      baseRef: 'main',
      headSha: head,
      state: 'open',
      draft: true,
      user: { login: 'gitea-bot' },
      htmlUrl: `${running.url}/alice/demo/pulls/1`,
      changedFiles: 2,
    })
    expect(await bot.listPullRequestFiles(demo, pr.number)).toEqual([
      { filename: 'README.md', status: 'modified', additions: 1, deletions: 1 },
      { filename: 'a.txt', status: 'added', additions: 1, deletions: 0 },
    ])
    await d.settleWebhooks()
    const opened = d.deliveries.find((x) => x.event === 'pull_request')
    expect(opened?.eventType).toBe('pull_request')
    expect(JSON.parse(opened?.body ?? '{}')).toMatchObject({
      action: 'opened',
      number: 1,
      pull_request: { head: { ref: 'uw/bezalel/a', sha: head }, draft: true },
    })

    const again = await bot
      .createPullRequest(demo, { head: 'uw/bezalel/a', base: 'main', title: 'Add a', body: '' })
      .catch((e: unknown) => e)
    expect(again).toBeInstanceOf(GiteaError)
    expect(again).toMatchObject({
      status: 409,
      operation: 'createPullRequest',
      transient: false,
      attempts: 1,
    })
    expect((again as GiteaError).message).toContain('pull request already exists for these targets')
    expect((await bot.listPullRequests(demo, { state: 'open' })).map((p) => p.number)).toEqual([1])
  })

  it('a push to a pull request’s head moves its head sha and delivers synchronized', async () => {
    const d = running.double
    d.seedCommits(demo, { 'b.txt': 'b\n' }, 'B', { branch: 'feature' })
    const pr = await adapter(tokens.bot).createPullRequest(demo, {
      head: 'feature',
      base: 'main',
      title: 'B',
      body: '',
    })
    d.addHook(demo, { url: 'http://127.0.0.1:9/hook', secret: 's', contentType: 'json' })
    await git(work, ['clone', '-q', '-b', 'feature', d.cloneUrl(demo), 'f'])
    const dir = join(work, 'f')
    await git(dir, ['commit', '-q', '--amend', '-m', 'B, amended'])
    const forced = await git(dir, ['rev-parse', 'HEAD'])
    await git(dir, [...header(tokens.bot), 'push', '-q', '--force', 'origin', 'feature'])
    expect((await adapter(tokens.bot).getPullRequest(demo, pr.number)).headSha).toBe(forced)
    await d.settleWebhooks()
    const sync = d.deliveries.find((x) => x.eventType === 'pull_request_sync')
    expect(JSON.parse(sync?.body ?? '{}')).toMatchObject({
      action: 'synchronized',
      pull_request: { head: { sha: forced } },
    })
  })

  it.each([
    ['an unknown head', { head: 'nope', base: 'main' }, 404],
    ['an unknown base', { head: 'main', base: 'nope' }, 404],
    ['head equal to base', { head: 'main', base: 'main' }, 422],
    ['a head that is a commit, not a branch', { head: 'HEAD~0', base: 'main' }, 422],
    ['a fork’s branch (the double has no forks)', { head: 'eve:main', base: 'main' }, 404],
  ])('createPullRequest with %s is %s', async (_name, refs, status) => {
    running.double.seedCommits(demo, { 'c.txt': 'c\n' }, 'C', { branch: 'other' })
    const err = await adapter(tokens.bot)
      .createPullRequest(demo, { ...refs, title: 't', body: '' })
      .catch((e: unknown) => e)
    expect(err).toMatchObject({ status, operation: 'createPullRequest' })
    expect(running.double.repoOf(demo).issues.size).toBe(0)
  })

  it('stores commit statuses per sha and lists them, newest first', async () => {
    const bot = adapter(tokens.bot)
    await bot.createCommitStatus(demo, initial, {
      state: 'pending',
      context: 'uni-wizard/bezalel/git_status',
    })
    await bot.createCommitStatus(demo, initial.slice(0, 10), {
      state: 'success',
      context: 'uni-wizard/bezalel/git_status',
      targetUrl: 'http://gitea.test/c/1',
    })
    expect(running.double.statusesOf(demo, initial).map((s) => s.state)).toEqual(['pending', 'success'])
    const res = await fetch(`${running.url}/api/v1/repos/alice/demo/statuses/${initial}`, {
      headers: { Authorization: `token ${tokens.rory}` },
    })
    const listed = (await res.json()) as { status: string; context: string; target_url: string }[]
    expect(listed.map((s) => s.status)).toEqual(['success', 'pending'])
    expect(res.headers.get('x-total-count')).toBe('2')
    // Gitea looks the commit up first and answers its failure as a 500.
    const unknown = await bot
      .createCommitStatus(demo, 'f'.repeat(40), { state: 'success', context: 'x' })
      .catch((e: unknown) => e)
    expect(unknown).toMatchObject({ status: 500, operation: 'createCommitStatus' })
  })

  it('getRepository reflects the hosted repository', async () => {
    const bot = adapter(tokens.bot)
    expect(await bot.getRepository(secret)).toEqual({
      owner: 'alice',
      name: 'secret',
      fullName: 'alice/secret',
      defaultBranch: 'trunk',
      cloneUrl: `${running.url}/alice/secret.git`,
      htmlUrl: `${running.url}/alice/secret`,
      private: true,
      empty: false,
    })
    const empty = running.double.createRepo({ owner: 'alice', name: 'empty', git: true })
    expect((await bot.getRepository(empty)).empty).toBe(true)
    const err = await adapter(tokens.eve)
      .getRepository(secret)
      .catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 404, operation: 'getRepository' })
  })

  it('stop() kills backends and removes the storage it made', async () => {
    const root = running.double.gitStorage.root
    expect(existsSync(join(root, 'alice', 'demo.git'))).toBe(true)
    running.double.close()
    expect(existsSync(root)).toBe(false)
    expect(running.double.gitBackends.size).toBe(0)
  })
})
