// Issue 10 (F3): a git failure is classified from git's own anchored messages, never from text the
// caller's argument can put into stderr. `git_log {ref: 'index.lock'}` made git say "fatal: bad
// revision 'index.lock'", which a search for /index\.lock/ read as lock contention: five of them
// opened the shared circuit breaker for every user of the house.
import { execFile } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { faultOf, Harness, House, MemoryCircuitBreaker } from '../../src/harness/index.js'
import type { ExecResult } from '../../src/tools/exec.js'
import { GitCheckoutArgs, gitCheckout } from '../../src/tools/git/git-checkout.js'
import { GitCommitArgs, gitCommit } from '../../src/tools/git/git-commit.js'
import { GitLogArgs, gitLog } from '../../src/tools/git/git-log.js'
import { GitPullArgs, gitPull } from '../../src/tools/git/git-pull.js'
import { gitFailure, resolveRepo } from '../../src/tools/git/git-repo.js'
import { builtinTools } from '../../src/tools/index.js'
import { ToolError } from '../../src/tools/tool.js'
import { startGitHttpServer, type GitHttpServer } from '../helpers/git-http.js'
import { PLAIN_ENV } from './git-hostile-routes.js'
import { tempDir, toolContext } from './tool-context.js'

const execFileP = promisify(execFile)
const g = async (cwd: string, ...args: string[]) =>
  (await execFileP('git', args, { cwd, encoding: 'utf8', env: PLAIN_ENV })).stdout.trim()

let ws: string
let work: string
let server: GitHttpServer
let cleanup: () => Promise<void>
const ctx = () => toolContext([ws], { http: { allowHosts: ['127.0.0.1'] } })

beforeAll(async () => {
  const t = await tempDir('uw-git-fail-')
  ws = path.join(t.dir, 'ws')
  work = path.join(ws, 'work')
  await mkdir(ws)
  await mkdir(path.join(t.dir, 'srv'))
  await g(t.dir, 'init', '-q', '--bare', '-b', 'main', path.join(t.dir, 'srv', 'remote.git'))
  server = await startGitHttpServer({ projectRoot: path.join(t.dir, 'srv') })
  cleanup = async () => {
    await server.stop()
    await t.cleanup()
  }
  await g(t.dir, 'clone', '-q', server.repoUrl('remote.git'), work)
  await g(work, 'checkout', '-q', '-b', 'main')
  await writeFile(path.join(work, 'a.txt'), 'a\n')
  await g(work, 'add', 'a.txt')
  await g(work, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit', '-q', '-m', 'initial')
  await g(work, 'push', '-q', '-u', 'origin', 'main')
  // A configured remote nobody answers on (port 1 is never served).
  await g(work, 'remote', 'add', 'dead', 'http://127.0.0.1:1/x.git')
})
afterAll(() => cleanup())

async function failure(run: () => Promise<unknown>): Promise<ToolError> {
  try {
    await run()
  } catch (err) {
    if (err instanceof ToolError) return err
    throw err
  }
  throw new Error('expected a ToolError')
}

describe('git failures naming what the caller asked for are the caller’s, never transient', () => {
  it.each([
    [
      'git_log ref=index.lock',
      () => gitLog.run(GitLogArgs.parse({ repoPath: 'work', ref: 'index.lock' }), ctx()),
    ],
    [
      'git_checkout ref=index.lock',
      () => gitCheckout.run(GitCheckoutArgs.parse({ repoPath: 'work', ref: 'index.lock' }), ctx()),
    ],
    [
      'git_pull branch=index.lock',
      () => gitPull.run(GitPullArgs.parse({ repoPath: 'work', branch: 'index.lock' }), ctx()),
    ],
    [
      'git_log ref=could-not-resolve-host',
      () => gitLog.run(GitLogArgs.parse({ repoPath: 'work', ref: 'HTTP-503/early-EOF' }), ctx()),
    ],
  ])('%s', async (_what, run) => {
    const err = await failure(run)
    expect(err.message).toMatch(/index\.lock|HTTP-503/)
    expect(err.transient).toBe(false)
    expect(err.fault).toBe('caller')
    expect(faultOf(err)).toBe('caller')
  })

  it('five git_log ref=index.lock through the Harness: not retried, and the breaker stays closed', async () => {
    const breaker = { failureThreshold: 5, windowMs: 60_000, cooldownMs: 30_000, closedCacheMs: 0 }
    const b = new MemoryCircuitBreaker(breaker)
    const h = new Harness({
      house: House.ALLEGRO,
      tools: builtinTools,
      config: {
        breaker,
        retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
        houses: { allegro: { workspaceRoots: [ws] } },
      },
      stores: { breaker: b },
    })
    for (let i = 0; i < 6; i++) {
      const r = await h.execute(
        'git_log',
        { repoPath: 'work', ref: 'index.lock' },
        { requestedBy: 'mallory' },
      )
      expect(r.status).toBe('failure')
      expect(r.attempts).toBe(1)
      expect(r.error?.rule).toBe('tool-failure')
    }
    expect(await b.state('allegro:git_log')).toMatchObject({ state: 'closed', failures: 0 })
    const ok = await h.execute('git_log', { repoPath: 'work' }, { requestedBy: 'alice' })
    expect(ok.status).toBe('success')
  })
})

describe('real dependency trouble stays transient', () => {
  it('a held index lock of this repository is transient, the dependency’s', async () => {
    await writeFile(path.join(work, 'a.txt'), 'changed\n')
    await writeFile(path.join(work, '.git', 'index.lock'), '')
    try {
      const err = await failure(() =>
        gitCommit.run(GitCommitArgs.parse({ repoPath: 'work', message: 'x', all: true }), ctx()),
      )
      expect(err.message).toMatch(/Unable to create '.*index\.lock': File exists/)
      expect(err.transient).toBe(true)
      expect(faultOf(err)).toBe('dependency')
    } finally {
      await execFileP('rm', ['-f', path.join(work, '.git', 'index.lock')])
      await g(work, 'checkout', '-q', '--', 'a.txt')
    }
  })

  it('a configured remote that refuses connections is transient, the dependency’s', async () => {
    const err = await failure(() =>
      gitPull.run(GitPullArgs.parse({ repoPath: 'work', remote: 'dead', branch: 'main' }), ctx()),
    )
    expect(err.message).toMatch(/unable to access/)
    expect(err.transient).toBe(true)
    expect(faultOf(err)).toBe('dependency')
  })

  it('a remote URL the caller named is retried but never counts against the tool', async () => {
    const err = await failure(() =>
      gitPull.run(
        GitPullArgs.parse({ repoPath: 'work', remote: 'http://127.0.0.1:1/y.git', branch: 'main' }),
        ctx(),
      ),
    )
    expect(err.transient).toBe(true)
    expect(faultOf(err)).toBe('caller')
  })
})

describe('gitFailure reads whole anchored lines only', () => {
  const result = (stderr: string): ExecResult => ({ code: 128, stdout: '', stderr }) as ExecResult
  it.each([
    ["fatal: bad revision 'index.lock'", false, 'caller'],
    ["fatal: ambiguous argument 'x': unknown revision or path not in the working tree.", false, 'caller'],
    ["error: pathspec 'index.lock' did not match any file(s) known to git", false, 'caller'],
    ['fatal: invalid reference: index.lock', false, 'caller'],
    ['fatal: couldn’t find remote ref x', false, undefined],
    ["fatal: couldn't find remote ref index.lock", false, 'caller'],
    // Lock messages for another directory (a path the caller picked) are not this repo's lock.
    ["fatal: Unable to create '/elsewhere/index.lock': File exists.", false, undefined],
    ["fatal: unable to access 'http://h/x/': Could not resolve host: h", true, 'dependency'],
    ['error: RPC failed; HTTP 502 curl 22 The requested URL returned error: 502', true, 'dependency'],
    ['fatal: the remote end hung up unexpectedly', true, 'dependency'],
    // The same words quoted inside another message are not the message.
    ["fatal: bad revision 'the-remote-end-hung-up'", false, 'caller'],
    ["error: something 'fatal: early EOF'", false, undefined],
    ['fatal: something else entirely', false, undefined],
  ])('%s', async (stderr, transient, fault) => {
    const repo = await resolveRepo('work', ctx())
    const err = await gitFailure(repo, ['x'], result(stderr))
    expect(err.transient).toBe(transient)
    expect(err.fault).toBe(fault)
  })

  it('this repository’s own index lock is transient', async () => {
    const repo = await resolveRepo('work', ctx())
    const err = await gitFailure(
      repo,
      ['commit'],
      result(
        `fatal: Unable to create '${path.join(repo.gitDir, 'index.lock')}': File exists.\n\nAnother git…`,
      ),
    )
    expect(err.transient).toBe(true)
    expect(err.fault).toBe('dependency')
  })
})
