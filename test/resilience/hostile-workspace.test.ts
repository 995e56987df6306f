// Hostile workspace: repositories that name programs in every way git allows (config keys, hooks,
// attributes, .gitmodules and submodules, a git directory, work tree or alternates outside the
// roots), each run through every git tool by Harness.execute as a house worker runs them, with a
// real HTTP git server as the remote. Nothing may run: the canary file the planted program writes
// must never appear. Repositories with a program-valued config key are refused, naming the key;
// hooks, attributes and submodules are inert and the tools work normally.
// Two passes: every route alone, then one repository holding every config route at once and one
// holding every inert route at once.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Harness } from '../../src/harness/index.js'
import { builtinTools } from '../../src/tools/index.js'
import { ToolsConfig } from '../../src/tools/tools-config.js'
import { tempDir } from '../tools/tool-context.js'
import { HostileWorld, ROUTES, slugOf, type HostileRoute } from '../tools/git-hostile-routes.js'
import { reportSummary } from './summary.js'

let world: HostileWorld
let harness: Harness
let cleanup: () => Promise<void>

beforeAll(async () => {
  const t = await tempDir('uw-resilience-hostile-')
  world = new HostileWorld(t.dir)
  await world.start()
  harness = new Harness({
    house: 'bezalel',
    mode: 'simple',
    // Each refusal is a failure to the breaker; hundreds in a row would open it and hide the rest.
    config: { houses: { bezalel: { workspaceRoots: [world.ws] } }, breaker: { failureThreshold: 1_000_000 } },
    context: { toolConfig: ToolsConfig.parse({ http: { allowHosts: ['127.0.0.1'] } }) },
    keyDir: path.join(t.dir, 'keys'),
    auditPath: path.join(t.dir, 'audit.jsonl'),
    tools: builtinTools,
  })
  cleanup = async () => {
    await harness.close()
    await world.stop()
    await t.cleanup()
  }
})
afterAll(() => cleanup())

interface Step {
  tool: string
  args: Record<string, unknown>
}

function steps(repoPath: string, branch: string): Step[] {
  return [
    { tool: 'git_status', args: { repoPath } },
    { tool: 'git_log', args: { repoPath, maxCount: 5 } },
    { tool: 'git_branch_list', args: { repoPath, remotes: true } },
    { tool: 'git_commit', args: { repoPath, message: 'local change', all: true } },
    { tool: 'git_pull', args: { repoPath, remote: 'origin', branch: 'main', ffOnly: false } },
    { tool: 'git_checkout', args: { repoPath, ref: branch, create: true } },
    { tool: 'git_push', args: { repoPath, remote: 'origin', branch } },
    { tool: 'git_checkout', args: { repoPath, ref: 'main' } },
    { tool: 'git_status', args: { repoPath } },
  ]
}

/** A route made of several routes planted into one repository. */
function combined(name: string, routes: HostileRoute[], expectation: HostileRoute['expect']): HostileRoute {
  return {
    name,
    async plant(p) {
      for (const r of routes) await r.plant(p)
    },
    expect: expectation,
  }
}

describe('hostile workspace', () => {
  it('no git tool runs anything a repository names, alone or all at once', async () => {
    const configRoutes = ROUTES.filter(
      (r) => r.expect instanceof RegExp && /config/.test(r.expect.source) && !r.repoPath,
    )
    // Hooks last: the other plants commit with plain git, which would run them.
    const inert = ROUTES.filter((r) => r.expect === 'harmless').sort(
      (a, b) => Number(a.name === 'every hook') - Number(b.name === 'every hook'),
    )
    const all = [
      ...ROUTES,
      combined('every config route at once', configRoutes, /refused: the repository's config/),
      combined('every inert route at once', inert, 'harmless'),
    ]
    let sent = 0
    let acknowledged = 0
    let handled = 0
    let refused = 0
    let succeeded = 0
    const ran: string[] = []
    const unexpected: string[] = []
    for (const route of all) {
      const slug = `r-${slugOf(route.name)}`
      const { canary, repoPath } = await world.prepare(route, slug)
      if (existsSync(canary)) throw new Error(`planting ${route.name} ran the canary itself`)
      for (const step of steps(repoPath, `uw/bezalel/hostile/${slug}`)) {
        sent++
        const result = await harness.execute(step.tool, step.args, { requestedBy: 'fuzz' })
        acknowledged++
        if (existsSync(canary)) ran.push(`${route.name} / ${step.tool}: ${readFileSync(canary, 'utf8')}`)
        const ok = result.status === 'success'
        if (ok) succeeded++
        else refused++
        const asExpected =
          route.expect === 'nothing runs' ||
          (route.expect === 'harmless'
            ? ok
            : !ok && route.expect.test(`${result.output} ${result.error?.reason ?? ''}`))
        if (asExpected) handled++
        else
          unexpected.push(
            `${route.name} / ${step.tool}: ${result.status} ${result.error?.reason ?? result.output}`,
          )
      }
    }
    const line = reportSummary(
      'hostile-workspace',
      { sent, acknowledged, handled, duplicates: 0, lost: acknowledged - handled },
      { routes: all.length, refused, succeeded, canaries: ran.length },
    )
    expect(ran, line).toEqual([])
    expect(unexpected, line).toEqual([])
  })
})
