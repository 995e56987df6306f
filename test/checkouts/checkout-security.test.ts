import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CheckoutError } from '../../src/checkouts/index.js'
import { git, makeWorld, signal, sourceRepo, type World } from './fixture.js'
import { filesUnder } from '../helpers/files.js'

const TOKEN = 'uwtok_7f3a9c1e5b2d4f6a8c0e1b3d5f7a9c2e'

describe('checkouts and the token', () => {
  let w: World
  afterEach(() => w.cleanup())

  it('the token reaches Gitea only as a header: never in a file the jobs leave, a log line, a URL or an error', async () => {
    w = await makeWorld({ token: TOKEN })
    const src = sourceRepo(w.projectRoot, 'acme', 'api')
    const head = src.commit({ 'a.txt': 'a\n' })
    src.push('main')
    src.push(`${head}:refs/pull/3/head`)
    const m = w.manager({ token: () => TOKEN, keepFailedMs: 60_000 })
    const base = { repo: { owner: 'acme', name: 'api' }, cloneUrl: w.url('acme', 'api') }
    const ok = await m.prepare(
      { ...base, jobId: 'tok-ok', target: { kind: 'default', branch: 'main' } },
      signal(),
    )
    // A failed job's checkout is kept: it is searched too.
    const failed = await m.prepare(
      { ...base, jobId: 'tok-failed', target: { kind: 'pull', number: 3, headSha: head, baseRef: 'main' } },
      signal(),
    )
    const missing = await m
      .prepare({ ...base, jobId: 'tok-missing', target: { kind: 'ref', ref: 'nope' } }, signal())
      .catch((e: unknown) => e)
    expect((missing as CheckoutError).kind).toBe('no-such-commit')
    await failed.release('failure')
    expect(existsSync(failed.path)).toBe(true)

    // It was used: every request carried it, as the Authorization header.
    expect(w.server.requests.length).toBeGreaterThan(0)
    expect(w.server.requests.every((r) => r.authorization === `token ${TOKEN}`)).toBe(true)
    expect(w.server.requests.some((r) => r.url.includes(TOKEN))).toBe(false)

    const files = filesUnder(w.root)
    expect(files.some((f) => f.includes(path.join('mirrors', 'acme', 'api.git')))).toBe(true)
    expect(files.some((f) => f.startsWith(failed.path))).toBe(true)
    for (const f of files) expect(readFileSync(f).includes(TOKEN), f).toBe(false)
    expect(w.logLines.length).toBeGreaterThan(0)
    for (const line of w.logLines) expect(line).not.toContain(TOKEN)
    expect(String((missing as Error).message)).not.toContain(TOKEN)
    // The URLs stored in the mirror's and the checkout's config carry no credentials.
    const mirror = path.join(w.root, 'mirrors', 'acme', 'api.git')
    expect(git(mirror, '--git-dir=.', 'config', 'remote.origin.url')).toBe(w.url('acme', 'api'))
    expect(git(ok.path, 'config', 'remote.origin.url')).toBe(w.url('acme', 'api'))
    await ok.release('success')
  })

  it('a token Gitea refuses: a clear, non-transient reason, one request for jobs arriving together, no token in it', async () => {
    w = await makeWorld({ token: 'the-right-token' })
    const src = sourceRepo(w.projectRoot, 'acme', 'api')
    src.commit({ 'a.txt': 'a\n' })
    src.push('main')
    const m = w.manager({ token: () => TOKEN })
    const errs = await Promise.all(
      [1, 2, 3].map((i) =>
        m
          .prepare(
            {
              repo: { owner: 'acme', name: 'api' },
              cloneUrl: w.url('acme', 'api'),
              jobId: `refused-${i}`,
              target: { kind: 'default', branch: 'main' },
            },
            signal(),
          )
          .catch((e: unknown) => e),
      ),
    )
    for (const err of errs) {
      expect(err).toBeInstanceOf(CheckoutError)
      expect((err as CheckoutError).kind).toBe('unauthorized')
      expect((err as Error).message).toMatch(/^Gitea refused the bot's token for acme\/api/)
      expect((err as CheckoutError).transient).toBe(false)
      expect((err as Error).message).not.toContain(TOKEN)
    }
    // No retry storm: one fetch served all three requests, and it gave up after the 401.
    expect(w.server.fetchCount()).toBe(1)
    expect(w.server.requests).toHaveLength(1)
    expect(existsSync(path.join(w.root, 'mirrors', 'acme', 'api.git'))).toBe(false)
    for (const line of w.logLines) expect(line).not.toContain(TOKEN)
  })

  it('without a token a private repository is refused the same way', async () => {
    w = await makeWorld({ token: 'the-right-token' })
    sourceRepo(w.projectRoot, 'acme', 'api')
    const err = await w
      .manager()
      .prepare(
        {
          repo: { owner: 'acme', name: 'api' },
          cloneUrl: w.url('acme', 'api'),
          jobId: 'anon',
          target: { kind: 'default', branch: 'main' },
        },
        signal(),
      )
      .catch((e: unknown) => e)
    expect((err as CheckoutError).kind).toBe('unauthorized')
  })
})

describe('a hostile repository', () => {
  let w: World
  let home: string
  const savedEnv = { ...process.env }
  beforeEach(async () => {
    w = await makeWorld()
    // The host's own git config and hooks name programs: none of them may run for a checkout.
    home = path.join(w.dir, 'home')
    const marker = path.join(w.dir, 'ran')
    const script = path.join(w.dir, 'evil.sh')
    writeFileSync(script, `#!/bin/sh\necho "$0 $*" >> ${marker}\ncat\n`)
    chmodSync(script, 0o755)
    mkdirSync(path.join(home, 'hooks'), { recursive: true })
    for (const hook of ['post-checkout', 'reference-transaction', 'post-index-change'])
      writeFileSync(path.join(home, 'hooks', hook), `#!/bin/sh\necho ${hook} >> ${marker}\n`, { mode: 0o755 })
    const config = [
      '[filter "evil"]',
      `\tsmudge = ${script} smudge`,
      `\tclean = ${script} clean`,
      `\tprocess = ${script} process`,
      '\trequired = true',
      '[core]',
      `\thooksPath = ${path.join(home, 'hooks')}`,
      `\tfsmonitor = ${script}`,
      '',
    ].join('\n')
    writeFileSync(path.join(home, '.gitconfig'), config)
    mkdirSync(path.join(home, '.config', 'git'), { recursive: true })
    writeFileSync(path.join(home, '.config', 'git', 'config'), config)
    process.env.HOME = home
    process.env.XDG_CONFIG_HOME = path.join(home, '.config')
    process.env.GIT_CONFIG_GLOBAL = path.join(home, '.gitconfig')
  })
  afterEach(async () => {
    process.env = { ...savedEnv }
    await w.cleanup()
  })

  it('a .gitattributes naming a filter and a .gitmodules in its history run nothing, fetch nothing else', async () => {
    const src = sourceRepo(w.projectRoot, 'acme', 'hostile')
    const other = sourceRepo(w.projectRoot, 'acme', 'other')
    const otherHead = other.commit({ 'x.txt': 'x\n' })
    other.push('main')
    src.commit(
      {
        '.gitattributes': '* filter=evil diff=evil merge=evil\n',
        '.gitmodules': `[submodule "sub"]\n\tpath = sub\n\turl = ${w.url('acme', 'other')}\n\tupdate = !touch ${path.join(w.dir, 'ran-update')}\n`,
        'payload.txt': 'raw content\n',
      },
      'hostile',
    )
    git(src.work, 'update-index', '--add', '--cacheinfo', `160000,${otherHead},sub`)
    git(src.work, 'commit', '--quiet', '-m', 'gitlink')
    const withModules = git(src.work, 'rev-parse', 'HEAD')
    // The tip drops .gitmodules; it stays in the history.
    git(src.work, 'rm', '--quiet', '.gitmodules')
    const tip = src.commit({ 'later.txt': 'later\n' }, 'drop gitmodules')
    src.push('main')

    const m = w.manager()
    const base = { repo: { owner: 'acme', name: 'hostile' }, cloneUrl: w.url('acme', 'hostile') }
    const co = await m.prepare(
      { ...base, jobId: 'hostile', target: { kind: 'default', branch: 'main' } },
      signal(),
    )
    expect(co.commit).toBe(tip)
    // The commit whose tree holds the .gitmodules, checked out too.
    const old = await m.prepare(
      { ...base, jobId: 'hostile-old', target: { kind: 'ref', ref: withModules } },
      signal(),
    )
    expect(old.commit).toBe(withModules)
    expect(existsSync(path.join(old.path, '.gitmodules'))).toBe(true)
    expect(readdirSync(path.join(old.path, 'sub'))).toEqual([])
    await old.release('success')
    // No filter ran: the file is checked out as stored.
    expect(readFileSync(path.join(co.path, 'payload.txt'), 'utf8')).toBe('raw content\n')
    expect(existsSync(path.join(w.dir, 'ran'))).toBe(false)
    expect(existsSync(path.join(w.dir, 'ran-update'))).toBe(false)
    // The submodule was not cloned or fetched: no request for acme/other.
    expect(existsSync(path.join(co.path, 'sub', 'x.txt'))).toBe(false)
    expect(w.server.requests.some((r) => r.url.includes('acme/other'))).toBe(false)
    await co.release('success')
  })
})
