import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadCatalogue } from '../../labels/catalogue.js'
import { runLabels } from '../../src/cli/labels.js'
import { startGiteaDouble, type RunningGiteaDouble } from '../../src/gitea/double/index.js'
import type { RepoRef } from '../../src/gitea/port.js'

let gitea: RunningGiteaDouble
let repo: RepoRef
let env: Record<string, string>
let ids: { enhancement: number; wontfix: number }

beforeEach(async () => {
  gitea = await startGiteaDouble()
  const d = gitea.double
  const bot = d.createUser({ login: 'gitea-bot' })
  d.createUser({ login: 'alice' })
  repo = d.createRepo({ owner: 'alice', name: 'demo' })
  d.addCollaborator(repo, 'gitea-bot', 'write')
  const enhancement = d.createLabel(repo, { name: 'enhancement', color: '84b6eb' })
  const wontfix = d.createLabel(repo, { name: 'wontfix', color: 'ffffff' })
  d.createLabel(repo, { name: 'type/bug', color: '000000', description: 'old text' })
  d.createIssue(repo, { title: 'Dark mode', author: 'alice', labels: ['enhancement'] })
  ids = { enhancement: enhancement.id, wontfix: wontfix.id }
  env = { GITEA_URL: gitea.url, GITEA_TOKEN: bot.token }
})
afterEach(async () => {
  gitea.double.assertContract()
  await gitea.stop()
})

async function sync(...flags: string[]): Promise<string[]> {
  const out: string[] = []
  expect(await runLabels(['sync', '--repo', 'alice/demo', ...flags], env, (l) => out.push(l))).toBe(0)
  return out
}

function names(): string[] {
  return [...gitea.double.repoOf(repo).labels.values()].map((l) => l.name).sort()
}

describe('uni-wizard labels sync (adapter over HTTP against the double)', () => {
  it('dry run prints the plan and changes nothing', async () => {
    const before = names()
    const out = await sync()
    expect(out.join('\n')).toContain('rename  enhancement -> type/feature')
    expect(out.join('\n')).toContain('update  type/bug: color, description, exclusive')
    expect(out.join('\n')).toContain('Dry run: nothing changed')
    expect(names()).toEqual(before)
  })

  it('--confirm creates, updates and renames (keeping the id and the issue’s label); the second run changes nothing', async () => {
    await sync('--confirm')
    const catalogue = loadCatalogue().labels.map((l) => l.name)
    expect(names()).toEqual([...catalogue, 'wontfix'].sort())
    const feature = [...gitea.double.repoOf(repo).labels.values()].find((l) => l.name === 'type/feature')
    expect(feature?.id).toBe(ids.enhancement)
    expect(feature?.exclusive).toBe(true)
    expect(gitea.double.labelNames(repo, 1)).toEqual(['type/feature'])
    const bug = [...gitea.double.repoOf(repo).labels.values()].find((l) => l.name === 'type/bug')
    expect(bug?.color).toBe('d73a4a')

    const writes = () => gitea.double.requests.filter((r) => r.method !== 'GET').length
    const before = writes()
    const out = await sync('--confirm')
    expect(out[0]).toContain('nothing to do')
    expect(writes()).toBe(before)
  })

  it('never deletes without --prune; deletes with it', async () => {
    await sync('--confirm')
    expect(names()).toContain('wontfix')
    const dry = await sync('--prune')
    expect(dry.join('\n')).toContain('delete  wontfix')
    expect(names()).toContain('wontfix')
    await sync('--confirm', '--prune')
    expect(names()).not.toContain('wontfix')
    expect([...gitea.double.repoOf(repo).labels.keys()]).not.toContain(ids.wontfix)
  })

  it('refuses a bad --repo and missing credentials', async () => {
    await expect(runLabels(['sync', '--repo', 'nope'], env, () => undefined)).rejects.toThrow(/owner\/name/)
    await expect(runLabels(['sync', '--repo', 'alice/demo'], {}, () => undefined)).rejects.toThrow(
      /GITEA_URL/,
    )
    await expect(runLabels(['prune'], env, () => undefined)).rejects.toThrow(/unknown subcommand/)
  })
})
