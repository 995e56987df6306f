import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { GiteaDouble } from '../../src/gitea/double/index.js'
import { GiteaError } from '../../src/gitea/gitea-error.js'
import { GiteaJsAdapter } from '../../src/gitea/gitea-js-adapter.js'
import type { GiteaPort, RepoRef } from '../../src/gitea/port.js'
import { seedGiteaWorld, type GiteaWorld } from '../helpers/gitea-world.js'

/** How a runner provides a fresh double and the base URL the adapter should talk to. */
export interface DoubleHarness {
  double: GiteaDouble
  baseUrl: string
  close(): Promise<void>
}

/**
 * The one port contract suite: every port method's happy path and Gitea's error behaviour,
 * through the real gitea-js adapter, against whichever transport the runner supplies.
 */
export function describePortContract(name: string, open: () => Promise<DoubleHarness>): void {
  describe(`GiteaPort contract (${name})`, () => {
    let h: DoubleHarness
    let w: GiteaWorld
    let bot: GiteaPort
    const as = (token: string): GiteaPort =>
      new GiteaJsAdapter({ baseUrl: h.baseUrl, token, retry: { attempts: 1 } })

    beforeEach(async () => {
      h = await open()
      w = seedGiteaWorld(h.double)
      bot = as(w.tokens.bot)
    })

    afterEach(async () => {
      // Any request or response the real Gitea would reject or never send fails the test.
      try {
        h.double.assertContract()
      } finally {
        await h.close()
      }
    })

    const failure = async (promise: Promise<unknown>): Promise<GiteaError> => {
      const err = await promise.then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(GiteaError)
      return err as GiteaError
    }

    it('getCurrentUser returns the token owner', async () => {
      expect(await bot.getCurrentUser()).toEqual({ id: expect.any(Number), login: 'gitea-bot' })
    })

    it('getIssue maps issues and pull requests (Gitea pull_request field -> isPull)', async () => {
      const issue = await bot.getIssue(w.repo, w.issue)
      expect(issue).toMatchObject({
        number: 1,
        title: 'Crash on start',
        body: 'It crashes.',
        state: 'open',
        isPull: false,
        user: { login: 'bob' },
        labels: [],
        assignees: [],
        htmlUrl: `${h.baseUrl}/alice/demo/issues/1`,
        closedAt: null,
      })
      expect((await bot.getIssue(w.repo, w.pull)).isPull).toBe(true)
    })

    it('getIssue on an unknown index is a non-transient 404 naming the operation', async () => {
      const err = await failure(bot.getIssue(w.repo, 99))
      expect(err).toMatchObject({ status: 404, operation: 'getIssue', transient: false })
    })

    it('an unknown repository is 404', async () => {
      const err = await failure(bot.getIssue({ owner: 'alice', name: 'nope' }, 1))
      expect(err.status).toBe(404)
    })

    it('listIssues filters by state, type and label, one page', async () => {
      await bot.addIssueLabels(w.repo, w.issue, [w.labels.bug])
      expect((await bot.listIssues(w.repo, { state: 'all', type: 'issues' })).map((i) => i.number)).toEqual([
        1,
      ])
      expect((await bot.listIssues(w.repo, { type: 'pulls' })).map((i) => i.number)).toEqual([2])
      expect((await bot.listIssues(w.repo, { labels: ['bug'] })).map((i) => i.number)).toEqual([1])
      expect(await bot.listIssues(w.repo, { state: 'closed' })).toEqual([])
      expect((await bot.listIssues(w.repo, { page: 2, limit: 1 })).map((i) => i.number)).toEqual([1])
    })

    it('createIssue answers the new issue, in the index space shared with PRs', async () => {
      const issue = await bot.createIssue(w.repo, {
        title: 'Flaky test',
        body: 'see log',
        labels: [w.labels.bug],
        assignees: ['alice'],
      })
      expect(issue).toMatchObject({ number: 3, isPull: false, user: { login: 'gitea-bot' } })
      expect(issue.labels.map((l) => l.name)).toEqual(['bug'])
      expect(issue.assignees.map((u) => u.login)).toEqual(['alice'])
    })

    it('editIssue changes title and state (Gitea answers 201) and assignIssue sets assignees', async () => {
      const closed = await bot.editIssue(w.repo, w.issue, { title: 'Crash on start (dup)', state: 'closed' })
      expect(closed).toMatchObject({ title: 'Crash on start (dup)', state: 'closed' })
      expect(closed.closedAt).not.toBeNull()
      const patch = h.double.requests.find((r) => r.method === 'PATCH')
      expect(patch?.status).toBe(201)
      const assigned = await bot.assignIssue(w.repo, w.issue, ['alice', 'carol'])
      expect(assigned.assignees.map((u) => u.login)).toEqual(['alice', 'carol'])
    })

    it('editIssue by a user who neither wrote the issue nor can write is 403', async () => {
      const err = await failure(
        as(w.tokens.alice)
          .editIssue(w.repo, w.issue, { title: 'x' })
          .then(() =>
            // alice owns the repo, so she may; carol is an admin; a stranger may not.
            as(h.double.createUser({ login: 'eve' }).token).editIssue(w.repo, w.issue, { title: 'y' }),
          ),
      )
      expect(err).toMatchObject({ status: 403, operation: 'editIssue' })
    })

    it('creates, edits and lists comments', async () => {
      const created = await bot.createComment(w.repo, w.issue, 'Working on it')
      expect(created).toMatchObject({ body: 'Working on it', user: { login: 'gitea-bot' } })
      expect(created.htmlUrl).toBe(`${h.baseUrl}/alice/demo/issues/1#issuecomment-${created.id}`)
      const edited = await bot.editComment(w.repo, created.id, 'Done')
      expect(edited).toMatchObject({ id: created.id, body: 'Done' })
      const listed = await bot.listComments(w.repo, w.issue)
      expect(listed.map((c) => c.body)).toEqual(['Done'])
      expect((await failure(bot.editComment(w.repo, 999, 'x'))).status).toBe(404)
    })

    it('reactions are idempotent: Gitea answers 201 then 200, both succeed', async () => {
      const comment = await bot.createComment(w.repo, w.issue, 'hi')
      await bot.addCommentReaction(w.repo, comment.id, 'eyes')
      await bot.addCommentReaction(w.repo, comment.id, 'eyes')
      await bot.addIssueReaction(w.repo, w.issue, '+1')
      const statuses = h.double.requests.filter((r) => r.path.endsWith('/reactions')).map((r) => r.status)
      expect(statuses).toEqual([201, 200, 201])
      expect(h.double.repoOf(w.repo).reactions).toHaveLength(2)
    })

    it('listLabels collects every page', async () => {
      for (let i = 0; i < 120; i++)
        h.double.createLabel(w.repo, { name: `area/${String(i).padStart(3, '0')}`, color: '00aabb' })
      const labels = await bot.listLabels(w.repo)
      expect(labels).toHaveLength(123)
      expect(new Set(labels.map((l) => l.id)).size).toBe(123)
      expect(labels.find((l) => l.name === 'type/bug')).toMatchObject({ exclusive: true, color: 'd73a4a' })
    })

    it('creates, edits and deletes labels; a bad colour is 422', async () => {
      const label = await bot.createLabel(w.repo, {
        name: 'prio/high',
        color: '#FF0000',
        exclusive: true,
        description: 'urgent',
      })
      expect(label).toEqual({
        id: expect.any(Number),
        name: 'prio/high',
        color: 'ff0000',
        description: 'urgent',
        exclusive: true,
      })
      const edited = await bot.editLabel(w.repo, label.id, { description: 'very urgent', color: '00ff00' })
      expect(edited).toMatchObject({ description: 'very urgent', color: '00ff00' })
      await bot.deleteLabel(w.repo, label.id)
      expect((await bot.listLabels(w.repo)).some((l) => l.id === label.id)).toBe(false)
      expect((await failure(bot.deleteLabel(w.repo, label.id))).status).toBe(404)
      expect((await failure(bot.createLabel(w.repo, { name: 'x', color: 'not-a-colour' }))).status).toBe(422)
    })

    it('label writes by a read-only user are 403', async () => {
      const err = await failure(as(w.tokens.bob).createLabel(w.repo, { name: 'x', color: '000000' }))
      expect(err).toMatchObject({ status: 403, operation: 'createLabel' })
    })

    it('adding an exclusive scoped label removes the other label of that scope', async () => {
      await bot.addIssueLabels(w.repo, w.issue, [w.labels.bug, w.labels.typeBug])
      const after = await bot.addIssueLabels(w.repo, w.issue, [w.labels.typeFeature])
      expect(after.map((l) => l.name).sort()).toEqual(['bug', 'type/feature'])
      expect(h.double.labelNames(w.repo, w.issue).sort()).toEqual(['bug', 'type/feature'])
    })

    it('an unknown label id is rejected with 422 (on add and on remove)', async () => {
      const add = await failure(bot.addIssueLabels(w.repo, w.issue, [w.labels.bug, 9999]))
      expect(add).toMatchObject({ status: 422, operation: 'addIssueLabels', transient: false })
      const remove = await failure(bot.removeIssueLabel(w.repo, w.issue, 9999))
      expect(remove).toMatchObject({ status: 422, operation: 'removeIssueLabel' })
    })

    it('removeIssueLabel removes a label (204)', async () => {
      await bot.addIssueLabels(w.repo, w.issue, [w.labels.bug])
      await bot.removeIssueLabel(w.repo, w.issue, w.labels.bug)
      expect(h.double.labelNames(w.repo, w.issue)).toEqual([])
    })

    it.each([
      ['alice', 'owner'],
      ['carol', 'admin'],
      ['gitea-bot', 'write'],
      ['bob', 'read'], // public repo: every signed-in user can read
      ['nobody-such', 'none'], // Gitea answers 404: mapped to none
    ] as const)('getCollaboratorPermission(%s) is %s', async (login, expected) => {
      expect(await as(w.tokens.carol).getCollaboratorPermission(w.repo, login)).toBe(expected)
    })

    it('collaborator permission is 403 unless the caller is a repo admin, site admin, or the user asked about', async () => {
      expect(await bot.getCollaboratorPermission(w.repo, 'gitea-bot')).toBe('write')
      expect(await as(w.tokens.site).getCollaboratorPermission(w.repo, 'bob')).toBe('read')
      const err = await failure(bot.getCollaboratorPermission(w.repo, 'alice'))
      expect(err).toMatchObject({ status: 403, operation: 'getCollaboratorPermission', transient: false })
      expect(err.message).toContain('Only admins can query all permissions')
    })

    it('isOrgMember: exact for a site admin, public members only for an outsider, false for an unknown org', async () => {
      h.double.addOrgMember('ops-team', 'bob')
      expect(await as(w.tokens.site).isOrgMember('ops-team', 'bob')).toBe(true)
      expect(await as(w.tokens.site).isOrgMember('ops-team', 'carol')).toBe(false)
      expect(await as(w.tokens.site).isOrgMember('no-such-org', 'bob')).toBe(false)
      // The bot is no member: Gitea sends it to the public check, where a private member is not found.
      expect(await bot.isOrgMember('ops-team', 'bob')).toBe(false)
    })

    it('createCommitStatus records the status on the sha', async () => {
      await bot.createCommitStatus(w.repo, w.headSha, {
        state: 'success',
        context: 'uni-wizard/triage',
        description: 'ok',
        targetUrl: 'https://ci.example/1',
      })
      expect(h.double.repoOf(w.repo).statuses).toMatchObject([
        { sha: w.headSha, state: 'success', context: 'uni-wizard/triage', targetUrl: 'https://ci.example/1' },
      ])
    })

    it('getPullRequest and listPullRequestFiles map the pull request', async () => {
      const pr = await bot.getPullRequest(w.repo, w.pull)
      expect(pr).toMatchObject({
        number: 2,
        state: 'open',
        merged: false,
        headRef: 'fix-crash',
        baseRef: 'main',
        headSha: w.headSha,
        additions: 15,
        deletions: 2,
        changedFiles: 2,
        user: { login: 'bob' },
      })
      expect(await bot.listPullRequestFiles(w.repo, w.pull)).toEqual([
        { filename: 'src/main.ts', status: 'modified', additions: 10, deletions: 2 },
        { filename: 'docs/NOTES.md', status: 'added', additions: 5, deletions: 0 },
      ])
      expect((await failure(bot.getPullRequest(w.repo, w.issue))).status).toBe(404)
    })

    it('createPullReview posts a COMMENT review on the head commit and answers its URL', async () => {
      const review = await bot.createPullReview(w.repo, w.pull, { body: 'Two findings: ...' })
      expect(review).toEqual({
        id: expect.any(Number),
        url: expect.stringMatching(new RegExp(`^${h.baseUrl}/alice/demo/pulls/2#issuecomment-\\d+$`)),
      })
      expect(h.double.reviews(w.repo, w.pull)).toMatchObject([
        { id: review.id, state: 'COMMENT', body: 'Two findings: ...', commitId: w.headSha },
      ])
      // What went over the wire: the event is COMMENT whatever the caller had in mind.
      const sent = h.double.requests.find((r) => r.operationId === 'repoCreatePullReview')
      expect(JSON.parse(sent?.requestBody ?? '{}')).toEqual({ event: 'COMMENT', body: 'Two findings: ...' })
    })

    it('createPullReview names the commit when asked, and the reviews read back over GET', async () => {
      const review = await bot.createPullReview(w.repo, w.pull, {
        body: 'On this commit.',
        commitId: 'abc123',
      })
      const res = await fetch(`${h.baseUrl}/api/v1/repos/alice/demo/pulls/${w.pull}/reviews`, {
        headers: { authorization: `token ${w.tokens.bot}` },
      })
      expect(res.status).toBe(200)
      expect(await res.json()).toMatchObject([
        {
          id: review.id,
          state: 'COMMENT',
          body: 'On this commit.',
          commit_id: 'abc123',
          user: { login: 'gitea-bot' },
          html_url: review.url,
          pull_request_url: `${h.baseUrl}/alice/demo/pulls/2`,
        },
      ])
    })

    it('createPullReview on a missing pull request (or a plain issue) is a non-transient 404; an empty body is 422', async () => {
      const missing = await failure(bot.createPullReview(w.repo, 99, { body: 'x' }))
      expect(missing).toMatchObject({ status: 404, operation: 'createPullReview', transient: false })
      expect((await failure(bot.createPullReview(w.repo, w.issue, { body: 'x' }))).status).toBe(404)
      expect((await failure(bot.createPullReview(w.repo, w.pull, { body: '  ' }))).status).toBe(422)
      expect(h.double.reviews(w.repo, w.pull)).toEqual([])
    })

    describe('repositories, branches and pull requests (a hosted repository)', () => {
      let code: RepoRef
      let head: string
      beforeEach(() => {
        code = h.double.createRepo({ owner: 'alice', name: 'code', git: true })
        h.double.addCollaborator(code, 'gitea-bot', 'write')
        h.double.seedCommits(code, { 'README.md': '# code\n' }, 'Initial commit')
        head = h.double.seedCommits(code, { 'src/a.ts': 'export {}\n' }, 'Add a', { branch: 'uw/bezalel/a' })
      })

      it('getRepository maps the repository', async () => {
        expect(await bot.getRepository(code)).toEqual({
          owner: 'alice',
          name: 'code',
          fullName: 'alice/code',
          defaultBranch: 'main',
          cloneUrl: `${h.baseUrl}/alice/code.git`,
          htmlUrl: `${h.baseUrl}/alice/code`,
          private: false,
          empty: false,
        })
        expect((await failure(bot.getRepository({ owner: 'alice', name: 'nope' }))).status).toBe(404)
      })

      it('getBranch finds a branch with a slash in its name; an unknown one is undefined', async () => {
        expect(await bot.getBranch(code, 'uw/bezalel/a')).toEqual({
          name: 'uw/bezalel/a',
          commitSha: head,
          protected: false,
        })
        h.double.protectBranch(code, 'main')
        expect((await bot.getBranch(code, 'main'))?.protected).toBe(true)
        expect(await bot.getBranch(code, 'uw/bezalel/none')).toBeUndefined()
      })

      it('createPullRequest opens one from a branch; the same head and base again is 409', async () => {
        const pr = await bot.createPullRequest(code, {
          head: 'uw/bezalel/a',
          base: 'main',
          title: 'Add a',
          body: 'Made by a house',
        })
        expect(pr).toMatchObject({
          number: 1,
          title: 'Add a',
          body: 'Made by a house',
          state: 'open',
          merged: false,
          draft: false,
          headRef: 'uw/bezalel/a',
          headSha: head,
          baseRef: 'main',
          changedFiles: 1,
          additions: 1,
          user: { login: 'gitea-bot' },
          htmlUrl: `${h.baseUrl}/alice/code/pulls/1`,
        })
        const dup = await failure(
          bot.createPullRequest(code, { head: 'uw/bezalel/a', base: 'main', title: 'again', body: '' }),
        )
        expect(dup).toMatchObject({ status: 409, operation: 'createPullRequest', transient: false })
        const missing = await failure(
          bot.createPullRequest(code, { head: 'uw/bezalel/none', base: 'main', title: 'x', body: '' }),
        )
        expect(missing.status).toBe(404)
      })

      it('listPullRequests filters by state, newest first, one page', async () => {
        h.double.seedCommits(code, { 'b.txt': 'b\n' }, 'B', { branch: 'uw/bezalel/b' })
        await bot.createPullRequest(code, { head: 'uw/bezalel/a', base: 'main', title: 'A', body: '' })
        await bot.createPullRequest(code, { head: 'uw/bezalel/b', base: 'main', title: '[WIP] B', body: '' })
        const open = await bot.listPullRequests(code, { state: 'open' })
        expect(open.map((p) => [p.number, p.draft])).toEqual([
          [2, true],
          [1, false],
        ])
        expect(
          (await bot.listPullRequests(code, { state: 'all', page: 2, limit: 1 })).map((p) => p.number),
        ).toEqual([1])
        expect(await bot.listPullRequests(code, { state: 'closed' })).toEqual([])
      })

      it('commit statuses are stored per sha and listed by the statuses endpoint', async () => {
        await bot.createCommitStatus(code, head, {
          state: 'pending',
          context: 'uni-wizard/bezalel/git_status',
        })
        expect(h.double.statusesOf(code, head)).toMatchObject([
          { state: 'pending', context: 'uni-wizard/bezalel/git_status' },
        ])
        const res = await fetch(`${h.baseUrl}/api/v1/repos/alice/code/statuses/${head}`, {
          headers: { Authorization: `token ${w.tokens.bob}` },
        })
        expect(await res.json()).toMatchObject([
          { status: 'pending', context: 'uni-wizard/bezalel/git_status' },
        ])
      })
    })

    it('answers 401 without a token and 405 for a wrong method', async () => {
      const noToken = await fetch(`${h.baseUrl}/api/v1/user`)
      expect(noToken.status).toBe(401)
      const wrong = await fetch(`${h.baseUrl}/api/v1/repos/alice/demo/labels`, {
        method: 'PUT',
        headers: { Authorization: `token ${w.tokens.bot}` },
      })
      expect(wrong.status).toBe(405)
      const unknown = await fetch(`${h.baseUrl}/api/v1/repos/alice/demo/nothing`, {
        headers: { Authorization: `token ${w.tokens.bot}` },
      })
      expect(unknown.status).toBe(404)
      // The PUT is not a Gitea operation at all: the contract check records it.
      expect(h.double.violations.map((v) => v.message)).toContain('no such operation in Gitea 1.26.3')
      h.double.violations.length = 0
    })
  })
}
