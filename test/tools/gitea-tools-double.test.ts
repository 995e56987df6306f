import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGiteaDouble, type RunningGiteaDouble } from '../../src/gitea/double/index.js'
import { GiteaJsAdapter } from '../../src/gitea/gitea-js-adapter.js'
import { Harness } from '../../src/harness/index.js'
import { giteaCreateIssue } from '../../src/tools/gitea/gitea-create-issue.js'
import { seedGiteaWorld, type GiteaWorld } from '../helpers/gitea-world.js'

describe('gitea_create_issue when Gitea creates the issue but answers too late', () => {
  let gitea: RunningGiteaDouble
  let w: GiteaWorld
  beforeAll(async () => {
    gitea = await startGiteaDouble()
    w = seedGiteaWorld(gitea.double)
  })
  afterAll(() => gitea.stop())

  it('runs once and fails saying it may have happened, instead of opening a second issue', async () => {
    const before = gitea.double.requests.length
    gitea.double.faults.set({ lateMs: 600, count: 1, match: { method: 'POST' } })
    const harness = new Harness({
      house: 'quill',
      config: { houses: { quill: {} }, retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 2 } },
      tools: [giteaCreateIssue],
      gitea: new GiteaJsAdapter({ baseUrl: gitea.url, token: w.tokens.bot, requestTimeoutMs: 150 }),
    })
    const r = await harness.execute(
      'gitea_create_issue',
      { repo: `${w.repo.owner}/${w.repo.name}`, title: 'only once' },
      { requestedBy: 'alice' },
    )
    expect(r.status).toBe('failure')
    expect(r.attempts).toBe(1)
    expect(r.error?.reason).toContain('Gitea may have applied it')
    await new Promise((res) => setTimeout(res, 700))
    const posts = gitea.double.requests.slice(before).filter((q) => q.method === 'POST')
    expect(posts).toHaveLength(1)
    const issues = [...gitea.double.store.repos.values()]
      .flatMap((repo) => [...repo.issues.values()])
      .filter((i) => i.title === 'only once')
    expect(issues).toHaveLength(1)
  })
})
