// git_push's branch rules against a real smart-HTTP git server: only branches under the house's
// prefix (`toolSettings.git.branchPrefix`, default `uw/<house>/`), never the remote's default
// branch (its HEAD, or Gitea's default_branch) nor a branch Gitea protects, whatever the arguments.
// Every refusal leaves the remote exactly as it was.
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { GitPushArgs, gitPush } from '../../src/tools/git/git-push.js'
import type { GiteaToolsPort } from '../../src/tools/gitea/gitea-tools-port.js'
import { ToolsConfig } from '../../src/tools/tools-config.js'
import { startGitHttpServer, type GitHttpServer } from '../helpers/git-http.js'
import { tempDir, toolContext } from './tool-context.js'
import { g } from '../helpers/plain-git.js'

let dir: string
let ws: string
let work: string
let remote: string
let server: GitHttpServer
let cleanup: () => Promise<void>

/** House `test`, so the default prefix is `uw/test/`. */
function ctxWs(config: Record<string, unknown> = {}, gitea?: GiteaToolsPort) {
  return toolContext([ws], { http: { allowHosts: ['127.0.0.1'] }, ...config }, gitea ? { gitea } : {})
}

/** What the remote holds, read through the server (`git ls-remote`), HEAD included. */
async function remoteRefs(name = 'srv/remote.git'): Promise<string> {
  return g(dir, 'ls-remote', '--symref', server.repoUrl(name))
}

/** A local branch with a commit of its own. */
async function branchWithCommit(name: string): Promise<void> {
  await g(work, 'checkout', '-q', '-B', name, 'main')
  await g(work, 'commit', '-q', '--allow-empty', '-m', `on ${name}`)
}

/** A GiteaToolsPort whose unused calls fail loudly; only what git_push asks for is answered. */
function giteaStub(over: Partial<GiteaToolsPort>): GiteaToolsPort {
  const unused = () => Promise.reject(new Error('not used by git_push'))
  return {
    getIssue: unused,
    listIssues: unused,
    createIssue: unused,
    createComment: unused,
    listComments: unused,
    getRepository: unused,
    getBranch: unused,
    createPullRequest: unused,
    listPullRequests: unused,
    getPullRequest: unused,
    ...over,
  }
}

/** The stub's answer for the served repository, as Gitea would describe it. */
function giteaRepo(defaultBranch = 'main', extra: { empty?: boolean } = {}) {
  return {
    owner: 'srv',
    name: 'remote',
    fullName: 'srv/remote',
    defaultBranch,
    cloneUrl: server.repoUrl('srv/remote.git'),
    htmlUrl: server.repoUrl('srv/remote'),
    private: false,
    empty: extra.empty ?? false,
  }
}

beforeEach(async () => {
  const t = await tempDir('uw-git-push-')
  dir = t.dir
  ws = path.join(dir, 'ws')
  work = path.join(ws, 'work')
  remote = path.join(dir, 'srv', 'remote.git')
  await mkdir(ws)
  await mkdir(path.join(dir, 'srv'))
  await g(dir, 'init', '-q', '--bare', '-b', 'main', remote)
  await g(dir, 'init', '-q', '--bare', '-b', 'main', path.join(dir, 'srv', 'empty.git'))
  // Served from the temp root, so a repository's URL path is `/srv/<name>.git`: owner/name, as on Gitea.
  server = await startGitHttpServer({ projectRoot: dir })
  cleanup = async () => {
    await server.stop()
    await t.cleanup()
  }
  await g(dir, 'clone', '-q', server.repoUrl('srv/remote.git'), work)
  await g(work, 'config', 'user.name', 'Test')
  await g(work, 'config', 'user.email', 'test@example.invalid')
  await g(work, 'checkout', '-q', '-b', 'main')
  await writeFile(path.join(work, 'README.md'), '# demo\n')
  await g(work, 'add', 'README.md')
  await g(work, 'commit', '-q', '-m', 'initial')
  await g(work, 'push', '-q', '-u', 'origin', 'main')
})
afterEach(() => cleanup())

describe('git_push pushes only under the prefix', () => {
  it('pushes a branch under uw/<house>/; the remote gets exactly that branch', async () => {
    const before = await remoteRefs()
    await branchWithCommit('uw/test/fix-typo')
    const ctx = ctxWs()
    const args = GitPushArgs.parse({ repoPath: 'work', branch: 'uw/test/fix-typo' })
    const r = await gitPush.run(args, ctx)
    expect(r.data).toMatchObject({ branch: 'uw/test/fix-typo' })
    const after = await remoteRefs()
    expect(after).toContain(`${await g(work, 'rev-parse', 'HEAD')}\trefs/heads/uw/test/fix-typo`)
    // Nothing else changed: main and HEAD are as they were.
    expect(after.split('\n').filter((l) => !l.includes('uw/test/fix-typo'))).toEqual(before.split('\n'))
    expect(await gitPush.verify(args, r, ctx)).toMatchObject({ kind: 'git-ls-remote' })
  })

  it('uses toolSettings.git.branchPrefix, with {house} filled in', async () => {
    const ctx = ctxWs({ git: { branchPrefix: 'bots/{house}/' } })
    await branchWithCommit('bots/test/x')
    await gitPush.run(GitPushArgs.parse({ repoPath: 'work', branch: 'bots/test/x' }), ctx)
    expect(await remoteRefs()).toContain('refs/heads/bots/test/x')
    await branchWithCommit('uw/test/x')
    await expect(
      gitPush.run(GitPushArgs.parse({ repoPath: 'work', branch: 'uw/test/x' }), ctx),
    ).rejects.toThrow(/not under bots\/test\//)
  })

  const outside: [string, string][] = [
    ['a branch outside the prefix', 'feature/x'],
    ["another house's prefix", 'uw/other/x'],
    ['a house name that only starts the same', 'uw/testing/x'],
    ['the prefix alone, without the slash', 'uw/test'],
    ['a prefix lookalike in a deeper path', 'x/uw/test/y'],
  ]
  for (const [name, branch] of outside) {
    it(`refuses ${name} (${branch}), naming the prefix; the remote is untouched`, async () => {
      await branchWithCommit(branch)
      const before = await remoteRefs()
      const requests = server.requests.length
      await expect(gitPush.run(GitPushArgs.parse({ repoPath: 'work', branch }), ctxWs())).rejects.toThrow(
        /refused: branch ".*" is not under uw\/test\//,
      )
      // Refused before git talked to the remote at all.
      expect(server.requests.length).toBe(requests)
      expect(await remoteRefs()).toBe(before)
    })
  }

  it('refuses the default branch when named and when it is the current branch', async () => {
    const before = await remoteRefs()
    await g(work, 'checkout', '-q', 'main')
    await g(work, 'commit', '-q', '--allow-empty', '-m', 'straight to main')
    await expect(
      gitPush.run(GitPushArgs.parse({ repoPath: 'work', branch: 'main' }), ctxWs()),
    ).rejects.toThrow(/refused: branch "main" is not under uw\/test\//)
    await expect(gitPush.run(GitPushArgs.parse({ repoPath: 'work' }), ctxWs())).rejects.toThrow(
      /refused: branch "main"/,
    )
    expect(await remoteRefs()).toBe(before)
  })

  it('refuses the default branch even when it lies under the prefix (named, and as HEAD)', async () => {
    await branchWithCommit('uw/test/trunk')
    await g(work, 'push', '-q', 'origin', 'uw/test/trunk')
    await g(remote, 'symbolic-ref', 'HEAD', 'refs/heads/uw/test/trunk')
    await g(work, 'commit', '-q', '--allow-empty', '-m', 'more')
    const before = await remoteRefs()
    expect(before).toContain('ref: refs/heads/uw/test/trunk\tHEAD')
    await expect(
      gitPush.run(GitPushArgs.parse({ repoPath: 'work', branch: 'uw/test/trunk' }), ctxWs()),
    ).rejects.toThrow(/refused: "uw\/test\/trunk" is the default branch of remote "origin"/)
    await expect(gitPush.run(GitPushArgs.parse({ repoPath: 'work' }), ctxWs())).rejects.toThrow(
      /is the default branch/,
    )
    // A case variant, which a case-folding server would store as the same ref.
    await branchWithCommit('uw/test/TRUNK')
    await expect(
      gitPush.run(GitPushArgs.parse({ repoPath: 'work', branch: 'uw/test/TRUNK' }), ctxWs()),
    ).rejects.toThrow(/"uw\/test\/TRUNK" is the default branch/)
    // Also through a URL argument instead of the remote's name.
    await expect(
      gitPush.run(
        GitPushArgs.parse({
          repoPath: 'work',
          remote: server.repoUrl('srv/remote.git'),
          branch: 'uw/test/trunk',
        }),
        ctxWs(),
      ),
    ).rejects.toThrow(/is the default branch/)
    expect(await remoteRefs()).toBe(before)
  })

  it('refuses a push to an empty repository (the first branch pushed would become its default)', async () => {
    await branchWithCommit('uw/test/first')
    await expect(
      gitPush.run(
        GitPushArgs.parse({
          repoPath: 'work',
          remote: server.repoUrl('srv/empty.git'),
          branch: 'uw/test/first',
        }),
        ctxWs(),
      ),
    ).rejects.toThrow(/has no branch yet/)
    expect(await remoteRefs('srv/empty.git')).toBe('')
  })

  it('checks every push URL of a remote, not only its fetch URL', async () => {
    await branchWithCommit('uw/test/trunk')
    await g(work, 'push', '-q', 'origin', 'uw/test/trunk')
    await g(path.join(dir, 'srv', 'empty.git'), 'fetch', '-q', remote, 'uw/test/trunk:uw/test/trunk')
    await g(path.join(dir, 'srv', 'empty.git'), 'symbolic-ref', 'HEAD', 'refs/heads/uw/test/trunk')
    // origin fetches from remote.git (default main) but pushes to empty.git (default uw/test/trunk).
    await g(work, 'remote', 'set-url', '--push', 'origin', server.repoUrl('srv/empty.git'))
    await g(work, 'commit', '-q', '--allow-empty', '-m', 'more')
    const before = await remoteRefs('srv/empty.git')
    await expect(
      gitPush.run(GitPushArgs.parse({ repoPath: 'work', branch: 'uw/test/trunk' }), ctxWs()),
    ).rejects.toThrow(/is the default branch of remote http:\/\/127\.0\.0\.1:\d+\/srv\/empty\.git/)
    expect(await remoteRefs('srv/empty.git')).toBe(before)
  })

  describe('when the remote is a repository of the context Gitea', () => {
    it('refuses a branch Gitea protects', async () => {
      await branchWithCommit('uw/test/locked')
      const asked: string[] = []
      const gitea = giteaStub({
        getRepository: async () => giteaRepo(),
        getBranch: async (repo, branch) => {
          asked.push(`${repo.owner}/${repo.name}:${branch}`)
          return { name: branch, commitSha: 'x', protected: true }
        },
      })
      const before = await remoteRefs()
      await expect(
        gitPush.run(GitPushArgs.parse({ repoPath: 'work', branch: 'uw/test/locked' }), ctxWs({}, gitea)),
      ).rejects.toThrow(/refused: "uw\/test\/locked" is a protected branch of remote "origin"/)
      expect(asked).toEqual(['srv/remote:uw/test/locked'])
      expect(await remoteRefs()).toBe(before)
    })

    it("refuses Gitea's default branch even when the remote's HEAD says otherwise", async () => {
      await branchWithCommit('uw/test/trunk')
      const gitea = giteaStub({
        getRepository: async () => giteaRepo('uw/test/trunk'),
        getBranch: async () => undefined,
      })
      const before = await remoteRefs()
      await expect(
        gitPush.run(GitPushArgs.parse({ repoPath: 'work', branch: 'uw/test/trunk' }), ctxWs({}, gitea)),
      ).rejects.toThrow(/is the default branch/)
      expect(await remoteRefs()).toBe(before)
    })

    it('pushes an unprotected branch; a repository Gitea does not know (404) is not its', async () => {
      await branchWithCommit('uw/test/ok')
      const ok = giteaStub({
        getRepository: async () => giteaRepo(),
        getBranch: async () => ({ name: 'uw/test/ok', commitSha: 'x', protected: false }),
      })
      await gitPush.run(GitPushArgs.parse({ repoPath: 'work', branch: 'uw/test/ok' }), ctxWs({}, ok))
      await branchWithCommit('uw/test/ok2')
      const unknown = giteaStub({
        getRepository: () => Promise.reject(Object.assign(new Error('404 Not Found'), { status: 404 })),
      })
      await gitPush.run(GitPushArgs.parse({ repoPath: 'work', branch: 'uw/test/ok2' }), ctxWs({}, unknown))
      // A same-named repository at another URL is not the remote either.
      await branchWithCommit('uw/test/ok3')
      const elsewhere = giteaStub({
        getRepository: async () => ({
          ...giteaRepo('uw/test/ok3'),
          cloneUrl: 'https://gitea.test/srv/remote.git',
          htmlUrl: 'https://gitea.test/srv/remote',
        }),
      })
      await gitPush.run(GitPushArgs.parse({ repoPath: 'work', branch: 'uw/test/ok3' }), ctxWs({}, elsewhere))
      expect(await remoteRefs()).toMatch(/refs\/heads\/uw\/test\/ok\n[\s\S]*ok2\n[\s\S]*ok3/)
    })

    it('does not push when Gitea cannot say whether the branch is protected', async () => {
      await branchWithCommit('uw/test/x')
      const down = giteaStub({
        getRepository: () =>
          Promise.reject(Object.assign(new Error('502 Bad Gateway'), { status: 502, transient: true })),
      })
      const before = await remoteRefs()
      await expect(
        gitPush.run(GitPushArgs.parse({ repoPath: 'work', branch: 'uw/test/x' }), ctxWs({}, down)),
      ).rejects.toMatchObject({ transient: true, message: expect.stringContaining('getRepository failed') })
      expect(await remoteRefs()).toBe(before)
    })
  })

  describe('refspec tricks never reach git', () => {
    const bad = [
      'uw/test/../../main',
      'uw/test/x:refs/heads/main',
      'uw/test/x:main',
      '+uw/test/x:main',
      '-uw/test/x',
      '--force',
      'uw/test/x main',
      'uw/test/@{-1}',
      'uw/test/x^',
      'uw/test/x~1',
      'uw/test/*',
    ]
    for (const branch of bad)
      it(`schema refuses ${JSON.stringify(branch)}`, () => {
        expect(() => GitPushArgs.parse({ repoPath: 'work', branch })).toThrow()
      })

    for (const branch of ['uw/test/x.lock', 'uw/test//x', 'uw/test/.hidden', 'uw/test/x/'])
      it(`refuses ${JSON.stringify(branch)}, which is no valid branch name, before any push`, async () => {
        const before = await remoteRefs()
        const requests = server.requests.length
        await expect(gitPush.run(GitPushArgs.parse({ repoPath: 'work', branch }), ctxWs())).rejects.toThrow(
          /refused: .* is not a valid branch name/,
        )
        expect(server.requests.length).toBe(requests)
        expect(await remoteRefs()).toBe(before)
      })

    it('pushes no tags, even annotated ones on the pushed commit', async () => {
      await branchWithCommit('uw/test/tagged')
      await g(work, 'tag', '-a', '-m', 'v1', 'v1')
      await gitPush.run(GitPushArgs.parse({ repoPath: 'work', branch: 'uw/test/tagged' }), ctxWs())
      expect(await remoteRefs()).not.toContain('refs/tags/')
    })
  })
})

describe('toolSettings.git.branchPrefix', () => {
  it('defaults to uw/{house}/', () => {
    expect(ToolsConfig.parse({}).git.branchPrefix).toBe('uw/{house}/')
  })

  const bad = [
    'uw/{house}',
    'uw',
    '/uw/',
    '-uw/',
    'uw/../x/',
    'u w/',
    'uw//',
    'uw/x.lock/',
    '.uw/',
    'uw:x/',
    'uw/{other}/',
  ]
  for (const prefix of bad)
    it(`refuses ${JSON.stringify(prefix)}`, () => {
      expect(() => ToolsConfig.parse({ git: { branchPrefix: prefix } })).toThrow()
    })

  for (const prefix of ['bots/', 'uw/{house}/', 'agents/{house}/work/'])
    it(`accepts ${JSON.stringify(prefix)}`, () => {
      expect(ToolsConfig.parse({ git: { branchPrefix: prefix } }).git.branchPrefix).toBe(prefix)
    })
})
