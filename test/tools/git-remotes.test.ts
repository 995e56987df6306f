// Remote arguments of git_pull / git_push: configured names or http(s) URLs that pass http_get's
// network policy, against a real smart-HTTP git server. Everything else is refused before git
// runs: local paths, file://, ext::, ssh, loopback or private hosts that are not allowlisted.
import { lookup } from 'node:dns/promises'
import { existsSync } from 'node:fs'
import { chmod, mkdir, writeFile } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { GitPullArgs, gitPull } from '../../src/tools/git/git-pull.js'
import { GitPushArgs, gitPush } from '../../src/tools/git/git-push.js'
import { parseRemoteUrl, resolveRemote } from '../../src/tools/git/git-remote.js'
import { resolveRepo } from '../../src/tools/git/git-repo.js'
import { startGitHttpServer, type GitHttpServer } from '../helpers/git-http.js'
import { tempDir, toolContext } from './tool-context.js'
import { g } from '../helpers/plain-git.js'

let dir: string
let ws: string
let work: string
/** A bare repository outside the workspace: no tool may read or write it. */
let outside: string
let server: GitHttpServer
let cleanup: () => Promise<void>
const allowLoopback = () => toolContext([ws], { http: { allowHosts: ['127.0.0.1'] } })

beforeEach(async () => {
  const t = await tempDir('uw-git-remotes-')
  dir = t.dir
  ws = path.join(dir, 'ws')
  work = path.join(ws, 'work')
  outside = path.join(dir, 'outside.git')
  await mkdir(ws)
  await mkdir(path.join(dir, 'srv'))
  await g(dir, 'init', '-q', '--bare', '-b', 'main', path.join(dir, 'srv', 'remote.git'))
  server = await startGitHttpServer({ projectRoot: path.join(dir, 'srv') })
  cleanup = async () => {
    await server.stop()
    await t.cleanup()
  }
  await g(dir, 'clone', '-q', server.repoUrl('remote.git'), work)
  await g(work, 'config', 'user.name', 'Test')
  await g(work, 'config', 'user.email', 'test@example.invalid')
  await g(work, 'checkout', '-q', '-b', 'main')
  await writeFile(path.join(work, 'README.md'), '# demo\n')
  await g(work, 'add', 'README.md')
  await g(work, 'commit', '-q', '-m', 'initial')
  await g(work, 'push', '-q', '-u', 'origin', 'main')
  // The outside repository has a commit of its own, so a fetch from it would be visible.
  await g(dir, 'clone', '-q', server.repoUrl('remote.git'), path.join(dir, 'tmp-outside'))
  await g(dir, 'init', '-q', '--bare', '-b', 'main', outside)
  await g(
    path.join(dir, 'tmp-outside'),
    '-c',
    'user.name=o',
    '-c',
    'user.email=o@x',
    'commit',
    '-q',
    '--allow-empty',
    '-m',
    'outside',
  )
  await g(path.join(dir, 'tmp-outside'), 'push', '-q', outside, 'HEAD:refs/heads/main')
})
afterEach(() => cleanup())

async function refsOf(bare: string): Promise<string> {
  return g(bare, 'for-each-ref', '--format=%(refname) %(objectname)')
}

describe('remote arguments', () => {
  it('a URL argument that passes the policy (loopback allowlisted) is fetched from and pushed to', async () => {
    const ctx = allowLoopback()
    const url = server.repoUrl('remote.git')
    const pull = await gitPull.run(GitPullArgs.parse({ repoPath: 'work', remote: url, branch: 'main' }), ctx)
    expect(pull.output).toMatch(/up to date/)
    await g(work, 'checkout', '-q', '-b', 'uw/test/via-url')
    await g(work, 'commit', '-q', '--allow-empty', '-m', 'to push')
    const args = GitPushArgs.parse({ repoPath: 'work', remote: url, branch: 'uw/test/via-url' })
    const push = await gitPush.run(args, ctx)
    expect(await g(path.join(dir, 'srv', 'remote.git'), 'rev-parse', 'uw/test/via-url')).toBe(
      await g(work, 'rev-parse', 'HEAD'),
    )
    expect(await gitPush.verify(args, push, ctx)).toMatchObject({ kind: 'git-ls-remote' })
  })

  const refused: [string, (d: string) => string, RegExp][] = [
    ['an absolute local path', (d) => path.join(d, 'outside.git'), /not an http\(s\) URL/],
    ['a relative local path', () => '../../outside.git', /not an http\(s\) URL/],
    ['a file:// URL', (d) => `file://${path.join(d, 'outside.git')}`, /only http and https.*file:\/\//],
    ['an ext:: transport', (d) => `ext::${path.join(d, 'evil.sh')}`, /transport "ext::" is not allowed/],
    ['an fd:: transport', () => 'fd::3', /transport "fd::" is not allowed/],
    ['an ssh:// URL', () => 'ssh://git@example.org/x.git', /only http and https.*ssh:\/\//],
    ['an scp-style host:path', () => 'git@example.org:x.git', /not an http\(s\) URL/],
    ['a git:// URL', () => 'git://example.org/x.git', /only http and https.*git:\/\//],
    ['a private address', () => 'http://10.11.12.13/x.git', /private address/],
    ['the metadata address', () => 'http://169.254.169.254/x.git', /link-local/],
    ['credentials in the URL', () => 'https://user:secret@example.org/x.git', /credentials/],
    ['a backslash host trick', () => 'http://example.org\\@127.0.0.1/x.git', /not an http\(s\) URL/],
    [
      'an unknown remote name',
      () => 'upstream',
      /not a remote configured in this repository \(configured: origin\)/,
    ],
  ]
  for (const [name, remote, reason] of refused) {
    it(`refuses ${name} for git_pull and git_push, with no side effect`, async () => {
      const canary = path.join(dir, 'canary')
      await writeFile(path.join(dir, 'evil.sh'), `#!/bin/sh\ntouch ${canary}\n`)
      await chmod(path.join(dir, 'evil.sh'), 0o755)
      const ctx = allowLoopback()
      const before = await refsOf(outside)
      const head = await g(work, 'rev-parse', 'HEAD')
      const requests = server.requests.length
      await expect(
        gitPull.run(GitPullArgs.parse({ repoPath: 'work', remote: remote(dir), branch: 'main' }), ctx),
      ).rejects.toThrow(reason)
      await expect(
        gitPush.run(GitPushArgs.parse({ repoPath: 'work', remote: remote(dir), branch: 'main' }), ctx),
      ).rejects.toThrow(reason)
      expect(await g(work, 'rev-parse', 'HEAD')).toBe(head)
      expect(existsSync(path.join(work, '.git', 'FETCH_HEAD'))).toBe(false)
      expect(await refsOf(outside)).toBe(before)
      expect(existsSync(canary)).toBe(false)
      expect(server.requests.length).toBe(requests)
    })
  }

  it('refuses loopback when it is not allowlisted, for a URL and for the configured origin', async () => {
    const ctx = toolContext([ws])
    const requests = server.requests.length
    await expect(
      gitPull.run(GitPullArgs.parse({ repoPath: 'work', remote: server.repoUrl('remote.git') }), ctx),
    ).rejects.toThrow(/127\.0\.0\.1, a loopback address \(not in http\.allowHosts\)/)
    await expect(gitPush.run(GitPushArgs.parse({ repoPath: 'work' }), ctx)).rejects.toThrow(
      /remote "origin" \(http:\/\/127\.0\.0\.1:\d+\/remote\.git\): refused: .*loopback/,
    )
    expect(server.requests.length).toBe(requests)
  })

  it('refuses a configured remote whose URL is a local path (the attack of issue 10)', async () => {
    await g(work, 'remote', 'add', 'local', outside)
    const ctx = allowLoopback()
    const before = await refsOf(outside)
    await expect(
      gitPull.run(GitPullArgs.parse({ repoPath: 'work', remote: 'local', branch: 'main' }), ctx),
    ).rejects.toThrow(/remote "local" .*not an http\(s\) URL/)
    await expect(
      gitPush.run(GitPushArgs.parse({ repoPath: 'work', remote: 'local', branch: 'main' }), ctx),
    ).rejects.toThrow(/remote "local"/)
    expect(await refsOf(outside)).toBe(before)
    expect(existsSync(path.join(work, '.git', 'FETCH_HEAD'))).toBe(false)
  })

  it("a push checks the remote's push URL, not only its fetch URL", async () => {
    await g(work, 'remote', 'set-url', '--push', 'origin', outside)
    await expect(gitPush.run(GitPushArgs.parse({ repoPath: 'work' }), allowLoopback())).rejects.toThrow(
      /remote "origin" .*not an http\(s\) URL/,
    )
  })

  it('does not follow a redirect to another host', async () => {
    const redirector = http.createServer((req, res) => {
      res.writeHead(302, { location: `${server.url}${req.url ?? '/'}` }).end()
    })
    redirector.listen(0, '127.0.0.1')
    await new Promise((r) => redirector.once('listening', r))
    try {
      const { port } = redirector.address() as AddressInfo
      const requests = server.requests.length
      await expect(
        gitPull.run(
          GitPullArgs.parse({
            repoPath: 'work',
            remote: `http://127.0.0.1:${port}/remote.git`,
            branch: 'main',
          }),
          allowLoopback(),
        ),
      ).rejects.toThrow(/git pull failed/)
      expect(server.requests.length).toBe(requests)
    } finally {
      redirector.closeAllConnections()
      await new Promise((r) => redirector.close(r))
    }
  })

  it('pins a host name to the address that was checked (http.curloptResolve)', async () => {
    const first = (await lookup('localhost', { all: true, verbatim: true }))[0]
    if (!first) throw new Error('localhost does not resolve')
    const repo = await resolveRepo('work', allowLoopback())
    const url = `http://localhost:${server.port}/remote.git`
    await expect(resolveRemote(repo, url, 'fetch', allowLoopback())).rejects.toThrow(/localhost resolves to/)
    const ctx = toolContext([ws], { http: { allowHosts: ['localhost'] } })
    const resolved = await resolveRemote(repo, url, 'fetch', ctx)
    const address = first.family === 6 ? `[${first.address}]` : first.address
    expect(resolved.config).toEqual([['http.curloptResolve', `localhost:${server.port}:${address}`]])
    if (first.family === 4 && first.address === '127.0.0.1') {
      // The pinned name really reaches the server.
      const r = await gitPull.run(GitPullArgs.parse({ repoPath: 'work', remote: url, branch: 'main' }), ctx)
      expect(r.output).toMatch(/up to date/)
    }
  })

  it('parseRemoteUrl reads the host the way git does, or refuses', () => {
    expect(parseRemoteUrl('https://Gitea.Example.org:3000/o/r.git')).toEqual({
      protocol: 'https',
      host: 'gitea.example.org',
      port: 3000,
      hasCredentials: false,
    })
    expect(parseRemoteUrl('http://bot:tok@h/x')).toMatchObject({ host: 'h', port: 80, hasCredentials: true })
    for (const bad of [
      'http://evil%2ehost/x',
      'http://[::1]%25eth0/x',
      'http://h x/',
      'https:///x',
      '/x',
      'x',
    ]) {
      expect(() => parseRemoteUrl(bad), bad).toThrow(/refused/)
    }
  })
})
