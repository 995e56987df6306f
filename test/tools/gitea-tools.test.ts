import { describe, expect, it } from 'vitest'
import { GiteaCommentArgs, giteaComment } from '../../src/tools/gitea/gitea-comment.js'
import { GiteaCreateIssueArgs, giteaCreateIssue } from '../../src/tools/gitea/gitea-create-issue.js'
import { GiteaGetIssueArgs, giteaGetIssue } from '../../src/tools/gitea/gitea-get-issue.js'
import { GiteaListIssuesArgs, giteaListIssues } from '../../src/tools/gitea/gitea-list-issues.js'
import type {
  GiteaToolsComment,
  GiteaToolsIssue,
  GiteaToolsPort,
  RepoRef,
} from '../../src/tools/gitea/gitea-tools-port.js'
import { toolContext } from './tool-context.js'

/**
 * A tiny in-memory fake of the five issue methods these tools use. The lead reruns these tests
 * against the real Gitea test double after merge.
 */
function fakeGitea(): GiteaToolsPort & { failNext?: { status: number; transient: boolean } } {
  const issues: GiteaToolsIssue[] = []
  const comments = new Map<number, GiteaToolsComment[]>()
  let nextComment = 100
  const key = (r: RepoRef) => `${r.owner}/${r.name}`
  const fake: GiteaToolsPort & { failNext?: { status: number; transient: boolean } } = {
    async getIssue(repo, index) {
      const i = issues.find((x) => x.number === index && x.htmlUrl.includes(key(repo)))
      if (!i) throw Object.assign(new Error('404 not found'), { status: 404, transient: false })
      return i
    },
    async listIssues(repo, opts) {
      if (fake.failNext) {
        const f = fake.failNext
        fake.failNext = undefined
        throw Object.assign(new Error(`${f.status} from Gitea`), f)
      }
      return issues.filter(
        (i) =>
          i.htmlUrl.includes(key(repo)) &&
          (opts.state === 'all' || i.state === (opts.state ?? 'open')) &&
          (!opts.labels || opts.labels.every((l) => i.labels.some((x) => x.name === l))),
      )
    },
    async createIssue(repo, input) {
      const number = issues.length + 1
      const issue: GiteaToolsIssue = {
        number,
        title: input.title,
        body: input.body ?? '',
        state: 'open',
        isPull: false,
        user: { login: 'bot' },
        labels: [],
        htmlUrl: `https://gitea.test/${key(repo)}/issues/${number}`,
        createdAt: new Date(0).toISOString(),
      }
      issues.push(issue)
      return issue
    },
    async createComment(repo, index, body) {
      const c = {
        id: nextComment++,
        body,
        user: { login: 'bot' },
        htmlUrl: `https://gitea.test/${key(repo)}/issues/${index}#c`,
        createdAt: '',
      }
      comments.set(index, [...(comments.get(index) ?? []), c])
      return c
    },
    async listComments(_repo, index) {
      return comments.get(index) ?? []
    },
    // The pull request calls are faked in gitea-create-pr.test.ts.
    getRepository: () => Promise.reject(new Error('not faked here')),
    getBranch: () => Promise.reject(new Error('not faked here')),
    createPullRequest: () => Promise.reject(new Error('not faked here')),
    listPullRequests: () => Promise.reject(new Error('not faked here')),
    getPullRequest: () => Promise.reject(new Error('not faked here')),
  }
  return fake
}

describe('gitea tools through the port', () => {
  it('create, get, list and comment, each verified by reading back', async () => {
    const gitea = fakeGitea()
    const ctx = toolContext([], {}, { gitea })
    const createArgs = GiteaCreateIssueArgs.parse({
      repo: 'org/app',
      title: 'Disk at 91%',
      body: 'see graph',
    })
    const created = await giteaCreateIssue.run(createArgs, ctx)
    expect(created.output).toBe('opened #1: https://gitea.test/org/app/issues/1')
    expect(await giteaCreateIssue.verify(createArgs, created, ctx)).toMatchObject({
      kind: 'gitea-readback',
      detail: { number: 1 },
    })
    expect(giteaCreateIssue.target(createArgs, ctx)).toBe('gitea:org/app')

    const got = await giteaGetIssue.run(GiteaGetIssueArgs.parse({ repo: 'org/app', index: 1 }), ctx)
    expect(got.output).toContain('#1 (open) Disk at 91%')
    const list = await giteaListIssues.run(GiteaListIssuesArgs.parse({ repo: 'org/app' }), ctx)
    expect((list.data as { issues: unknown[] }).issues).toHaveLength(1)

    const cArgs = GiteaCommentArgs.parse({ repo: 'org/app', index: 1, body: 'on it' })
    const c = await giteaComment.run(cArgs, ctx)
    expect(await giteaComment.verify(cArgs, c, ctx)).toMatchObject({ detail: { id: 100 } })
    expect(await giteaComment.verify({ ...cArgs, body: 'other' }, c, ctx)).toBeUndefined()
  })

  it('maps port errors: transient ones stay transient, a 404 does not', async () => {
    const gitea = fakeGitea()
    const ctx = toolContext([], {}, { gitea })
    await expect(
      giteaGetIssue.run(GiteaGetIssueArgs.parse({ repo: 'org/app', index: 9 }), ctx),
    ).rejects.toMatchObject({ transient: false })
    gitea.failNext = { status: 502, transient: true }
    await expect(
      giteaListIssues.run(GiteaListIssuesArgs.parse({ repo: 'org/app' }), ctx),
    ).rejects.toMatchObject({
      transient: true,
      message: expect.stringContaining('listIssues failed'),
    })
  })

  it('fails clearly without a port, and refuses malformed repos', async () => {
    await expect(
      giteaGetIssue.run(GiteaGetIssueArgs.parse({ repo: 'org/app', index: 1 }), toolContext([])),
    ).rejects.toThrow(/Gitea is not configured/)
    for (const repo of ['org', 'org/app/x', '../x', 'org/ap p'])
      expect(() => GiteaGetIssueArgs.parse({ repo, index: 1 })).toThrow()
  })
})
