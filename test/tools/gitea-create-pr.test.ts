// gitea_create_pr through a fake GiteaToolsPort that keeps repositories, branches and pull requests
// the way Gitea does (409 for a second open PR of the same head and base, paginated lists). The lead
// reruns the flow against the real Gitea test double once its pull request support lands.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { isTransient } from '../../src/harness/attempts/transient.js'
import { GiteaCreatePrArgs, giteaCreatePr, prTitle } from '../../src/tools/gitea/gitea-create-pr.js'
import type {
  CreatePullRequestInput,
  GiteaToolsPort,
  GiteaToolsPullRequest,
  RepoRef,
} from '../../src/tools/gitea/gitea-tools-port.js'
import { toolContext } from './tool-context.js'

type Fault =
  /** Another run opens the same PR just before ours arrives: Gitea answers 409. */
  | 'race'
  /** Gitea opens it, and the answer is lost (a timeout): mayHaveBeenApplied. */
  | 'lost-after-apply'
  /** The request fails ambiguously and Gitea did not open it. */
  | 'lost-before-apply'
  /** 503: Gitea did not handle it; safe to retry. */
  | 'unavailable'

interface FakePr extends GiteaToolsPullRequest {
  body: string
}

function fakeGitea(opts: { defaultBranch?: string; branches?: string[] } = {}) {
  const defaultBranch = opts.defaultBranch ?? 'main'
  const branches = new Map<string, string>(
    [defaultBranch, ...(opts.branches ?? ['uw/test/fix'])].map((b, i) => [b, `${i + 1}`.repeat(40)]),
  )
  const prs: FakePr[] = []
  const calls: string[] = []
  let fault: Fault | undefined
  const key = (r: RepoRef) => `${r.owner}/${r.name}`
  const open = (repo: RepoRef, input: CreatePullRequestInput): FakePr => {
    const number = prs.length + 1
    const pr: FakePr = {
      number,
      title: input.title,
      body: input.body,
      state: 'open',
      merged: false,
      headRef: input.head,
      baseRef: input.base,
      headSha: branches.get(input.head) ?? '',
      htmlUrl: `https://gitea.test/${key(repo)}/pulls/${number}`,
    }
    prs.push(pr)
    return pr
  }
  const gitea: GiteaToolsPort = {
    getIssue: () => Promise.reject(new Error('not used')),
    listIssues: () => Promise.reject(new Error('not used')),
    createIssue: () => Promise.reject(new Error('not used')),
    createComment: () => Promise.reject(new Error('not used')),
    listComments: () => Promise.reject(new Error('not used')),
    async getRepository(repo) {
      calls.push('getRepository')
      return {
        owner: repo.owner,
        name: repo.name,
        fullName: key(repo),
        defaultBranch,
        cloneUrl: `https://gitea.test/${key(repo)}.git`,
        htmlUrl: `https://gitea.test/${key(repo)}`,
        private: false,
        empty: false,
      }
    },
    async getBranch(_repo, branch) {
      calls.push(`getBranch ${branch}`)
      const sha = branches.get(branch)
      return sha ? { name: branch, commitSha: sha, protected: false } : undefined
    },
    async listPullRequests(_repo, o) {
      calls.push(`listPullRequests ${o.page ?? 1}`)
      const limit = o.limit ?? 30
      const page = o.page ?? 1
      return prs
        .filter((p) => o.state === 'all' || p.state === o.state)
        .slice((page - 1) * limit, page * limit)
        .map((p) => ({ ...p }))
    },
    async createPullRequest(repo, input) {
      calls.push(`createPullRequest ${input.title}`)
      const f = fault
      fault = undefined
      if (f === 'race') open(repo, input)
      if (f === 'lost-after-apply') open(repo, input)
      if (f === 'lost-after-apply' || f === 'lost-before-apply')
        throw Object.assign(new Error('POST pulls: timeout; not retried: Gitea may have applied it'), {
          status: 0,
          transient: true,
          mayHaveBeenApplied: true,
        })
      if (f === 'unavailable')
        throw Object.assign(new Error('503 Service Unavailable'), { status: 503, transient: true })
      if (prs.some((p) => p.state === 'open' && p.headRef === input.head && p.baseRef === input.base))
        throw Object.assign(new Error('409 pull request already exists'), { status: 409, transient: false })
      return { ...open(repo, input) }
    },
    async getPullRequest(_repo, index) {
      calls.push(`getPullRequest ${index}`)
      const pr = prs.find((p) => p.number === index)
      if (!pr) throw Object.assign(new Error('404'), { status: 404, transient: false })
      return { ...pr }
    },
  }
  return {
    gitea,
    prs,
    calls,
    branches,
    fail(f: Fault) {
      fault = f
    },
  }
}

const args = (over: Record<string, unknown> = {}) =>
  GiteaCreatePrArgs.parse({ repo: 'org/app', head: 'uw/test/fix', title: 'Fix the typo', ...over })

describe('gitea_create_pr', () => {
  it('opens a PR from a pushed branch into the default branch; verified by reading it back', async () => {
    const f = fakeGitea()
    const ctx = toolContext([], {}, { gitea: f.gitea })
    const a = args({ body: 'Found by /run' })
    const r = await giteaCreatePr.run(a, ctx)
    expect(r.output).toBe('opened PR #1: https://gitea.test/org/app/pulls/1')
    expect(r.data).toEqual({
      number: 1,
      url: 'https://gitea.test/org/app/pulls/1',
      head: 'uw/test/fix',
      base: 'main',
      headSha: '2'.repeat(40),
      created: true,
    })
    expect(f.prs).toMatchObject([{ title: 'Fix the typo', body: 'Found by /run', baseRef: 'main' }])
    expect(giteaCreatePr.target(a, ctx)).toBe('pr:org/app:uw/test/fix')
    expect(giteaCreatePr.access).toBe('write')
    expect(await giteaCreatePr.verify(a, r, ctx)).toEqual({
      kind: 'gitea-pr',
      summary: 'PR #1 is open from uw/test/fix into main',
      detail: {
        number: 1,
        url: 'https://gitea.test/org/app/pulls/1',
        head: 'uw/test/fix',
        base: 'main',
        headSha: '2'.repeat(40),
      },
    })
  })

  it('returns the PR already open for the same head and base instead of opening a second', async () => {
    const f = fakeGitea()
    const ctx = toolContext([], {}, { gitea: f.gitea })
    await giteaCreatePr.run(args(), ctx)
    const again = await giteaCreatePr.run(args({ title: 'Another title' }), ctx)
    expect(again.output).toBe('PR #1 already open: https://gitea.test/org/app/pulls/1')
    expect(again.data).toMatchObject({ number: 1, created: false })
    expect(f.prs).toHaveLength(1)
    expect(f.calls.filter((c) => c.startsWith('createPullRequest'))).toHaveLength(1)
  })

  it('finds the open PR past the first page, and ignores closed ones and other heads or bases', async () => {
    const f = fakeGitea({ branches: ['uw/test/fix', 'uw/test/other', 'release'] })
    const ctx = toolContext([], {}, { gitea: f.gitea })
    // A closed PR of the same head does not count: a new one is opened.
    await giteaCreatePr.run(args(), ctx)
    ;(f.prs[0] as FakePr).state = 'closed'
    for (let i = 0; i < 60; i++)
      await giteaCreatePr.run(args({ head: 'uw/test/other', base: `release` }), ctx)
    const opened = await giteaCreatePr.run(args(), ctx)
    expect(opened.data).toMatchObject({ number: 3, created: true })
    // The other 59 runs found #2. Now 60 more open PRs come before #3 in Gitea's list.
    const template = f.prs[1] as FakePr
    expect(f.prs).toHaveLength(3)
    for (let i = 0; i < 60; i++)
      f.prs.unshift({ ...template, number: 100 + i, headRef: `uw/test/n${i}`, baseRef: 'main' })
    f.calls.length = 0
    const found = await giteaCreatePr.run(args(), ctx)
    expect(found.data).toMatchObject({ number: 3, created: false })
    expect(f.calls).toContain('listPullRequests 2')
    expect(f.prs.filter((p) => p.headRef === 'uw/test/fix')).toHaveLength(2)
  })

  it('a 409 (another run opened it meanwhile) returns that PR', async () => {
    const f = fakeGitea()
    const ctx = toolContext([], {}, { gitea: f.gitea })
    f.fail('race')
    const r = await giteaCreatePr.run(args(), ctx)
    expect(r.data).toMatchObject({ number: 1, created: false })
    expect(r.output).toMatch(/^PR #1 already open/)
    expect(f.prs).toHaveLength(1)
  })

  it('an answer lost after Gitea opened it: found by listing, not requested again', async () => {
    const f = fakeGitea()
    const ctx = toolContext([], {}, { gitea: f.gitea })
    f.fail('lost-after-apply')
    const r = await giteaCreatePr.run(args(), ctx)
    expect(r.data).toMatchObject({ number: 1, created: true })
    expect(f.prs).toHaveLength(1)
    expect(f.calls.filter((c) => c.startsWith('createPullRequest'))).toHaveLength(1)
  })

  it('an ambiguous failure with nothing found fails saying it may have been applied, never retried', async () => {
    const f = fakeGitea()
    const ctx = toolContext([], {}, { gitea: f.gitea })
    f.fail('lost-before-apply')
    const err = await giteaCreatePr.run(args(), ctx).catch((e: unknown) => e)
    expect(err).toMatchObject({
      name: 'ToolError',
      transient: false,
      message: expect.stringMatching(
        /createPullRequest failed: .*not requested again: Gitea may have applied it$/,
      ),
    })
    // The harness retries transient errors; this one must not be, however it is wrapped.
    expect(isTransient(err)).toBe(false)
    expect(f.calls.filter((c) => c.startsWith('createPullRequest'))).toHaveLength(1)
    expect(f.prs).toHaveLength(0)
  })

  it('a 503 (not applied) stays transient, so the harness may retry it', async () => {
    const f = fakeGitea()
    const ctx = toolContext([], {}, { gitea: f.gitea })
    f.fail('unavailable')
    const err = await giteaCreatePr.run(args(), ctx).catch((e: unknown) => e)
    expect(err).toMatchObject({
      transient: true,
      message: expect.stringContaining('createPullRequest failed'),
    })
    expect(isTransient(err)).toBe(true)
  })

  const refusals: [string, Record<string, unknown>, RegExp][] = [
    [
      'a head outside the prefix',
      { head: 'feature/x' },
      /refused: branch "feature\/x" is not under uw\/test\//,
    ],
    ["another house's head", { head: 'uw/other/x' }, /not under uw\/test\//],
    ['the default branch as head', { head: 'main' }, /not under uw\/test\//],
  ]
  for (const [name, over, reason] of refusals)
    it(`refuses ${name} without calling Gitea`, async () => {
      const f = fakeGitea()
      await expect(giteaCreatePr.run(args(over), toolContext([], {}, { gitea: f.gitea }))).rejects.toThrow(
        reason,
      )
      expect(f.calls).toEqual([])
    })

  it('refuses a default branch that lies under the prefix, and a head equal to the base', async () => {
    const f = fakeGitea({ defaultBranch: 'uw/test/trunk', branches: ['uw/test/fix'] })
    const ctx = toolContext([], {}, { gitea: f.gitea })
    await expect(giteaCreatePr.run(args({ head: 'uw/test/trunk' }), ctx)).rejects.toThrow(
      /is the base or the default branch/,
    )
    await expect(giteaCreatePr.run(args({ base: 'uw/test/fix' }), ctx)).rejects.toThrow(
      /is the base or the default branch/,
    )
    expect(f.calls.some((c) => c.startsWith('createPullRequest'))).toBe(false)
  })

  it('refuses a head branch that was not pushed, saying to push it first', async () => {
    const f = fakeGitea({ branches: [] })
    const ctx = toolContext([], {}, { gitea: f.gitea })
    await expect(giteaCreatePr.run(args(), ctx)).rejects.toThrow(
      /branch "uw\/test\/fix" does not exist in org\/app: push the branch first \(git_push\)/,
    )
    expect(f.calls.some((c) => c.startsWith('createPullRequest'))).toBe(false)
  })

  it('uses the prefix of toolSettings.git.branchPrefix', async () => {
    const f = fakeGitea({ branches: ['bots/test/x'] })
    const ctx = toolContext([], { git: { branchPrefix: 'bots/{house}/' } }, { gitea: f.gitea })
    expect((await giteaCreatePr.run(args({ head: 'bots/test/x' }), ctx)).data).toMatchObject({
      created: true,
    })
    await expect(giteaCreatePr.run(args(), ctx)).rejects.toThrow(/not under bots\/test\//)
  })

  it('a draft gets the WIP: title prefix Gitea reads as work in progress', async () => {
    const f = fakeGitea({ branches: ['uw/test/a', 'uw/test/b', 'uw/test/c', 'uw/test/d'] })
    const ctx = toolContext([], {}, { gitea: f.gitea })
    await giteaCreatePr.run(args({ head: 'uw/test/a', draft: true }), ctx)
    await giteaCreatePr.run(args({ head: 'uw/test/b', draft: true, title: '[WIP] already' }), ctx)
    await giteaCreatePr.run(args({ head: 'uw/test/c', draft: true, title: 'wip: lower case counts' }), ctx)
    await giteaCreatePr.run(args({ head: 'uw/test/d' }), ctx)
    expect(f.prs.map((p) => p.title)).toEqual([
      'WIP: Fix the typo',
      '[WIP] already',
      'wip: lower case counts',
      'Fix the typo',
    ])
    expect(prTitle('x'.repeat(250), true)).toHaveLength(255)
    expect(() => args({ draft: true, title: 'x'.repeat(251) })).toThrow(/250 characters at most/)
    expect(() => args({ title: 'x'.repeat(255) })).not.toThrow()
  })

  it('verify withholds evidence when the PR is closed, merged or points elsewhere', async () => {
    const f = fakeGitea()
    const ctx = toolContext([], {}, { gitea: f.gitea })
    const a = args()
    const r = await giteaCreatePr.run(a, ctx)
    const pr = f.prs[0] as FakePr
    pr.state = 'closed'
    expect(await giteaCreatePr.verify(a, r, ctx)).toBeUndefined()
    pr.state = 'open'
    pr.merged = true
    expect(await giteaCreatePr.verify(a, r, ctx)).toBeUndefined()
    pr.merged = false
    pr.baseRef = 'release'
    expect(await giteaCreatePr.verify(a, r, ctx)).toBeUndefined()
  })

  it('schema: strict, validated branch names, no fork heads, bounded title and body', () => {
    for (const head of ['other:uw/test/x', '-uw/test/x', 'uw/test/a..b', 'uw/test/x y', ''])
      expect(() => args({ head }), head).toThrow()
    expect(() => args({ base: '--delete' })).toThrow()
    expect(() => args({ title: '' })).toThrow()
    expect(() => args({ title: 'x'.repeat(256) })).toThrow()
    expect(() => args({ body: 'x'.repeat(65_537) })).toThrow()
    expect(() => args({ merge: true })).toThrow()
    expect(() => args({ repo: '../x' })).toThrow()
  })

  it('fails clearly without a Gitea port', async () => {
    await expect(giteaCreatePr.run(args(), toolContext([]))).rejects.toThrow(/Gitea is not configured/)
  })
})

describe('the bot never merges or approves a pull request', () => {
  it('the Gitea slice the tools get has no call that merges, approves or reviews', () => {
    const src = readFileSync(new URL('../../src/tools/gitea/gitea-tools-port.ts', import.meta.url), 'utf8')
    const body = /export interface GiteaToolsPort \{([\s\S]*?)\n\}/.exec(src)?.[1] ?? ''
    const methods = [...body.matchAll(/^\s{2}(\w+)\(/gm)].map((m) => m[1])
    expect(methods.length).toBeGreaterThan(5)
    expect(methods.filter((m) => /merge|approv|review|submit/i.test(m ?? ''))).toEqual([])
  })

  it('gitea_create_pr calls only look-ups and createPullRequest', async () => {
    const f = fakeGitea()
    const seen = new Set<string>()
    const spy = new Proxy(f.gitea, {
      get(target, prop, receiver) {
        seen.add(String(prop))
        return Reflect.get(target, prop, receiver) as unknown
      },
    })
    const ctx = toolContext([], {}, { gitea: spy })
    const a = args()
    await giteaCreatePr.verify(a, await giteaCreatePr.run(a, ctx), ctx)
    f.fail('race')
    await giteaCreatePr.run(args(), ctx)
    expect([...seen].sort()).toEqual(
      ['createPullRequest', 'getBranch', 'getPullRequest', 'getRepository', 'listPullRequests'].sort(),
    )
  })
})
