import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { GitBranchListArgs, gitBranchList } from '../../src/tools/git/git-branch-list.js'
import { GitCheckoutArgs, gitCheckout } from '../../src/tools/git/git-checkout.js'
import { GitCommitArgs, gitCommit } from '../../src/tools/git/git-commit.js'
import { GitLogArgs, gitLog } from '../../src/tools/git/git-log.js'
import { GitPullArgs, gitPull } from '../../src/tools/git/git-pull.js'
import { GitPushArgs, gitPush } from '../../src/tools/git/git-push.js'
import { GitStatusArgs, gitStatus } from '../../src/tools/git/git-status.js'
import { startGitHttpServer, type GitHttpServer } from '../helpers/git-http.js'
import { tempDir, toolContext } from './tool-context.js'
import { g } from '../helpers/plain-git.js'

async function identify(repo: string): Promise<void> {
  await g(repo, 'config', 'user.name', 'Test')
  await g(repo, 'config', 'user.email', 'test@example.invalid')
}

let ws: string
let work: string
let other: string
let remote: string
let server: GitHttpServer
let cleanup: () => Promise<void>

/** A tool context whose network policy allows the loopback git server (and nothing else private). */
function ctxWs(config: Record<string, unknown> = {}) {
  return toolContext([ws], { http: { allowHosts: ['127.0.0.1'] }, ...config })
}

beforeEach(async () => {
  const t = await tempDir('uw-git-')
  ws = path.join(t.dir, 'ws')
  remote = path.join(t.dir, 'srv', 'remote.git')
  work = path.join(ws, 'work')
  other = path.join(t.dir, 'other')
  await mkdir(ws)
  await mkdir(path.join(t.dir, 'srv'))
  await g(t.dir, 'init', '-q', '--bare', '-b', 'main', remote)
  server = await startGitHttpServer({ projectRoot: path.join(t.dir, 'srv') })
  cleanup = async () => {
    await server.stop()
    await t.cleanup()
  }
  await g(t.dir, 'clone', '-q', server.repoUrl('remote.git'), work)
  await identify(work)
  await await g(work, 'checkout', '-q', '-b', 'main')
  await writeFile(path.join(work, 'README.md'), '# demo\n')
  await await g(work, 'add', 'README.md')
  await await g(work, 'commit', '-q', '-m', 'initial')
  await await g(work, 'push', '-q', '-u', 'origin', 'main')
  await g(t.dir, 'clone', '-q', server.repoUrl('remote.git'), other)
  await identify(other)
})
afterEach(() => cleanup())

describe('git tools on real repositories', () => {
  it('git_status reports branch, upstream and changes; targetDigest follows the working tree', async () => {
    const ctx = ctxWs()
    const args = GitStatusArgs.parse({ repoPath: 'work' })
    const clean = await gitStatus.run(args, ctx)
    expect(clean.data).toMatchObject({ branch: 'main', upstream: 'origin/main', clean: true, ahead: 0 })
    expect(gitStatus.target(args, ctx)).toBe(`repo:${work}`)
    expect(await gitStatus.targetDigest?.(args, ctx)).toBe(clean.targetDigest)
    await writeFile(path.join(work, 'new.txt'), 'x')
    const dirty = await gitStatus.run(args, ctx)
    expect(dirty.data).toMatchObject({ clean: false, changes: [{ code: '??', path: 'new.txt' }] })
    expect(dirty.targetDigest).not.toBe(clean.targetDigest)
  })

  it('every git tool keys on the repo top level, so a git_status read covers a later git_push', async () => {
    const ctx = ctxWs()
    await mkdir(path.join(work, 'deep'))
    const status = await gitStatus.run(GitStatusArgs.parse({ repoPath: 'work' }), ctx)
    const push = GitPushArgs.parse({ repoPath: 'work/deep' })
    expect(gitPush.target(push, ctx)).toBe(`repo:${work}`)
    expect(await gitPush.targetDigest?.(push, ctx)).toBe(status.targetDigest)
  })

  it('git_commit stages paths and commits; verified by rev-parse HEAD', async () => {
    const ctx = ctxWs()
    await writeFile(path.join(work, 'a.txt'), 'a\n')
    const args = GitCommitArgs.parse({ repoPath: 'work', message: 'Add a\n\nbody', paths: ['a.txt'] })
    const r = await gitCommit.run(args, ctx)
    const head = await g(work, 'rev-parse', 'HEAD')
    expect((r.data as { commit: string }).commit).toBe(head)
    const ev = await gitCommit.verify(args, r, ctx)
    expect(ev).toMatchObject({ kind: 'git-rev-parse', detail: { head, subject: 'Add a' } })
    // Nothing left to commit is a clear failure.
    await expect(
      gitCommit.run(GitCommitArgs.parse({ repoPath: 'work', message: 'again' }), ctx),
    ).rejects.toThrow('nothing to commit')
  })

  it('git_commit evidence is withheld when HEAD moved on after the commit', async () => {
    const ctx = ctxWs()
    await writeFile(path.join(work, 'a.txt'), 'a\n')
    const args = GitCommitArgs.parse({ repoPath: 'work', message: 'Add a', paths: ['a.txt'] })
    const r = await gitCommit.run(args, ctx)
    await g(work, 'commit', '-q', '--allow-empty', '-m', 'someone else')
    expect(await gitCommit.verify(args, r, ctx)).toBeUndefined()
  })

  it("git_push pushes the current branch (under the house's prefix) for real; verified by ls-remote", async () => {
    const ctx = ctxWs()
    await g(work, 'checkout', '-q', '-b', 'uw/test/add-b')
    await writeFile(path.join(work, 'b.txt'), 'b\n')
    await gitCommit.run(GitCommitArgs.parse({ repoPath: 'work', message: 'Add b', paths: ['b.txt'] }), ctx)
    const args = GitPushArgs.parse({ repoPath: 'work' })
    const r = await gitPush.run(args, ctx)
    expect(await g(remote, 'rev-parse', 'refs/heads/uw/test/add-b')).toBe(await g(work, 'rev-parse', 'HEAD'))
    expect(await gitPush.verify(args, r, ctx)).toMatchObject({
      kind: 'git-ls-remote',
      detail: { branch: 'uw/test/add-b' },
    })
  })

  it('git_pull fast-forwards from a real remote; verified against FETCH_HEAD', async () => {
    await writeFile(path.join(other, 'c.txt'), 'c\n')
    await g(other, 'add', 'c.txt')
    await g(other, 'commit', '-q', '-m', 'from elsewhere')
    await g(other, 'push', '-q', 'origin', 'main')
    const ctx = ctxWs()
    const args = GitPullArgs.parse({ repoPath: 'work' })
    const r = await gitPull.run(args, ctx)
    expect(await g(work, 'rev-parse', 'HEAD')).toBe(await g(other, 'rev-parse', 'HEAD'))
    expect(r.output).toMatch(/^updated/)
    expect(await gitPull.verify(args, r, ctx)).toMatchObject({ kind: 'git-rev-parse' })
  })

  it('git_checkout creates and switches branches; git_branch_list and git_log see them', async () => {
    const ctx = ctxWs()
    const create = GitCheckoutArgs.parse({ repoPath: 'work', ref: 'feature/x', create: true })
    const r = await gitCheckout.run(create, ctx)
    expect(await g(work, 'symbolic-ref', '--short', 'HEAD')).toBe('feature/x')
    expect(await gitCheckout.verify(create, r, ctx)).toMatchObject({ detail: { branch: 'feature/x' } })
    const back = GitCheckoutArgs.parse({ repoPath: 'work', ref: 'main' })
    expect(await gitCheckout.verify(back, await gitCheckout.run(back, ctx), ctx)).toBeDefined()
    const list = await gitBranchList.run(GitBranchListArgs.parse({ repoPath: 'work', remotes: true }), ctx)
    const names = (list.data as { branches: { name: string; current: boolean }[] }).branches
    expect(names.map((b) => b.name)).toEqual(expect.arrayContaining(['feature/x', 'main', 'origin/main']))
    expect(names.find((b) => b.current)?.name).toBe('main')
    const log = await gitLog.run(GitLogArgs.parse({ repoPath: 'work', maxCount: 5 }), ctx)
    expect((log.data as { commits: { subject: string }[] }).commits.map((c) => c.subject)).toEqual([
      'initial',
    ])
  })

  describe('refusals', () => {
    const refusedArgs: [string, () => unknown][] = [
      ['a ref starting with -', () => GitCheckoutArgs.parse({ repoPath: 'work', ref: '--orphan=x' })],
      [
        'a remote starting with -',
        () => GitPushArgs.parse({ repoPath: 'work', remote: '--upload-pack=touch /tmp/pwn' }),
      ],
      ['a ref with ..', () => GitLogArgs.parse({ repoPath: 'work', ref: 'main..evil' })],
      ['a ref with a space', () => GitPullArgs.parse({ repoPath: 'work', branch: 'a b' })],
    ]
    for (const [name, parse] of refusedArgs) {
      it(`schema refuses ${name}`, () => {
        expect(parse).toThrow()
      })
    }

    it('refuses a repo outside the workspace roots', async () => {
      await expect(gitStatus.run({ repoPath: other }, ctxWs())).rejects.toThrow(/outside the workspace/)
    })

    it('refuses a root that is only a subdirectory of a repo (the repo top level is outside)', async () => {
      await mkdir(path.join(work, 'inner'))
      await expect(gitStatus.run({ repoPath: '.' }, toolContext([path.join(work, 'inner')]))).rejects.toThrow(
        /outside/,
      )
    })

    it('refuses a directory that is not a repository', async () => {
      await mkdir(path.join(ws, 'plain'))
      await expect(gitStatus.run({ repoPath: '.' }, toolContext([path.join(ws, 'plain')]))).rejects.toThrow(
        /not a git repository/,
      )
    })

    it('git_commit refuses paths that leave the repository', async () => {
      await expect(
        gitCommit.run(
          GitCommitArgs.parse({ repoPath: 'work', message: 'x', paths: ['../../etc/passwd'] }),
          ctxWs(),
        ),
      ).rejects.toThrow(/outside the repository/)
    })

    it('a path named like an option is passed after -- and treated as a path', async () => {
      await writeFile(path.join(work, '--all'), 'x')
      const r = await gitCommit.run(
        GitCommitArgs.parse({ repoPath: 'work', message: 'odd name', paths: ['--all'] }),
        ctxWs(),
      )
      expect(await g(work, 'show', '--name-only', '--format=', (r.data as { commit: string }).commit)).toBe(
        '--all',
      )
    })
  })
})
