// Issue 10: git must never run a program named by repository content. Every route of
// git-hostile-routes.ts (config keys, hooks, attributes, submodules, a git dir or work tree outside
// the roots) is planted into a real checkout whose remote is a real HTTP git server, and every git
// tool runs on it: each either refuses with the reason, or (hooks, attributes, submodules) runs
// normally, and the canary file the planted program would write never appears.
import { existsSync, readFileSync } from 'node:fs'
import { cp, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { git, resolveRepo } from '../../src/tools/git/git-repo.js'
import { GitStatusArgs, gitStatus } from '../../src/tools/git/git-status.js'
import { HostileWorld, ROUTES, g, runEveryGitTool, slugOf } from './git-hostile-routes.js'
import { tempDir, toolContext } from './tool-context.js'

let world: HostileWorld
let cleanup: () => Promise<void>
const ctx = () => toolContext([world.ws], { http: { allowHosts: ['127.0.0.1'] } })

beforeAll(async () => {
  const t = await tempDir('uw-git-hostile-')
  world = new HostileWorld(t.dir)
  cleanup = async () => {
    await world.stop()
    await t.cleanup()
  }
  await world.start()
})
afterAll(() => cleanup())

describe('hostile repositories: nothing the repository names ever runs', () => {
  for (const route of ROUTES) {
    const what = typeof route.expect === 'string' ? route.expect : 'every tool refuses'
    it(`${route.name}: ${what}`, async () => {
      const slug = slugOf(route.name)
      const { canary, repoPath } = await world.prepare(route, slug)
      if (existsSync(canary)) throw new Error(`planting ${route.name} ran the canary itself`)
      const outcomes = await runEveryGitTool(repoPath, `uw/test/hostile/${slug}`, ctx(), canary)
      if (route.expect === 'harmless') {
        expect(outcomes.filter((o) => !o.ok).map((o) => `${o.tool}: ${o.error}`)).toEqual([])
        expect(outcomes.every((o) => o.verified)).toBe(true)
      } else if (route.expect !== 'nothing runs') {
        for (const o of outcomes) {
          expect(o.ok, `${o.tool} must refuse`).toBe(false)
          expect(o.error, o.tool).toMatch(route.expect)
        }
      }
      const firstRun = outcomes.findIndex((o) => o.canaryAfter)
      expect(
        firstRun < 0 ? 'nothing ran' : `step ${firstRun} (${outcomes[firstRun]?.tool}) ran something`,
      ).toBe('nothing ran')
      expect(existsSync(canary) ? readFileSync(canary, 'utf8') : 'nothing ran').toBe('nothing ran')
    })
  }
})

describe('the planted repositories are really hostile (plain git runs what they name)', () => {
  async function plainRun(name: string, run: (repo: string) => Promise<unknown>): Promise<string> {
    const route = ROUTES.find((r) => r.name === name)
    if (!route) throw new Error(name)
    const { repo, canary } = await world.prepare(route, `control-${slugOf(name)}`)
    await run(repo).catch(() => undefined)
    return existsSync(canary) ? readFileSync(canary, 'utf8') : ''
  }

  it('filter clean: plain git add runs it', async () => {
    expect(await plainRun('filter clean', (repo) => g(repo, 'add', 'same.txt'))).toMatch(/ran: .* clean/)
  })
  it('core.fsmonitor: plain git status runs it', async () => {
    expect(await plainRun('core.fsmonitor', (repo) => g(repo, 'status'))).toMatch(/ran:/)
  })
  it('hooks: plain git checkout runs post-checkout (and reference-transaction)', async () => {
    expect(await plainRun('every hook', (repo) => g(repo, 'checkout', '-q', '-b', 'x'))).toMatch(
      /post-checkout/,
    )
  })
  it('submodule: plain git status enters it and runs its clean filter', async () => {
    const out = await plainRun('hostile submodule and .gitmodules', async (repo) => {
      // A same-size change with another mtime makes git hash the file through the filter.
      await writeFile(path.join(repo, 'sm', 'f'), 'c\n')
      await utimes(path.join(repo, 'sm', 'f'), new Date(2020, 0, 1), new Date(2020, 0, 1))
      await g(repo, 'status')
    })
    expect(out).toMatch(/ran:/)
  })
  it('include.path: plain git add reads the included filter and runs it', async () => {
    const out = await plainRun('include.path', async (repo) => {
      await writeFile(path.join(repo, '.gitattributes'), '* filter=x\n')
      await g(repo, 'add', 'same.txt')
    })
    expect(out).toMatch(/ran: .* clean/)
  })

  it('the refusal names the key and says how to fix it', async () => {
    const route = ROUTES.find((r) => r.name === 'filter clean')
    if (!route) throw new Error('route')
    const { repoPath } = await world.prepare(route, 'message')
    await expect(gitStatus.run(GitStatusArgs.parse({ repoPath }), ctx())).rejects.toThrow(
      /refused: the repository's config \(local\) sets filter\.x\.clean, which is not on the data-only allowlist.*docs\/TOOLS\.md/,
    )
  })
})

describe('the check holds for the whole tool run', () => {
  it('config planted after the check (between two git calls of one tool) is caught before git runs', async () => {
    const route = ROUTES.find((r) => r.name === 'every hook')
    const filter = ROUTES.find((r) => r.name === 'filter clean')
    if (!route || !filter) throw new Error('route')
    const { repo, repoPath, canary } = await world.prepare(route, 'late-plant')
    const checked = await resolveRepo(repoPath, ctx())
    await filter.plant({
      repo,
      evil: path.join(path.dirname(canary), 'late-plant', 'bin', 'evil'),
      outside: '',
      ws: world.ws,
    })
    await expect(git(checked, ['add', 'same.txt'], ctx())).rejects.toThrow(/sets filter\.x\.clean/)
    expect(existsSync(canary)).toBe(false)
  })

  it('a gitfile re-pointed after the check (to a git directory outside) is caught before git runs', async () => {
    const route = ROUTES.find((r) => r.name === 'every hook')
    if (!route) throw new Error('route')
    const { repo, repoPath, canary } = await world.prepare(route, 'late-gitfile')
    // The checkout's git directory lives beside it (inside the roots), named by a gitfile.
    const inside = `${repo}-gitdir`
    await rename(path.join(repo, '.git'), inside)
    await writeFile(path.join(repo, '.git'), `gitdir: ${inside}\n`)
    const checked = await resolveRepo(repoPath, ctx())
    // A copy outside the roots with a clean filter; the gitfile now points there.
    const outside = path.join(path.dirname(canary), 'late-gitfile', 'moved.git')
    await cp(inside, outside, { recursive: true })
    await g(
      outside,
      'config',
      'filter.x.clean',
      `${path.join(path.dirname(canary), 'late-gitfile', 'bin', 'evil')} clean`,
    )
    await writeFile(path.join(repo, '.gitattributes'), '* filter=x\n')
    await writeFile(path.join(repo, '.git'), `gitdir: ${outside}\n`)
    await expect(git(checked, ['add', 'same.txt'], ctx())).rejects.toThrow(
      /git directory .* is outside the workspace roots/,
    )
    expect(existsSync(canary)).toBe(false)
  })

  it('an alternates file planted one level down after the check is caught before git runs', async () => {
    const route = ROUTES.find((r) => r.name === 'nested alternates outside the roots')
    if (!route) throw new Error('route')
    const { repo, repoPath } = await world.prepare(route, 'late-alternates')
    const level2 = path.join(`${repo}-store`, 'objects', 'info', 'alternates')
    const planted = await readFile(level2, 'utf8')
    await rm(level2)
    const checked = await resolveRepo(repoPath, ctx())
    await writeFile(level2, planted)
    await expect(git(checked, ['log', '-1'], ctx())).rejects.toThrow(
      /alternate object directory .* is outside the workspace roots/,
    )
  })
})
