import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { learnFromCorrections } from '../../handlers/learn-from-corrections.js'
import { triageNewIssue } from '../../handlers/triage-new-issue.js'
import type { SupportedEvent } from '../../src/events/payloads.js'
import type { GiteaDouble } from '../../src/gitea/double/index.js'
import type { RepoRef } from '../../src/gitea/port.js'
import { cleanupPrefix } from '../helpers/redis.js'
import { BOT, eventJob, fixture, scopes, startWire, type Wire } from './wire.js'

let w: Wire
beforeEach(async () => {
  w = await startWire()
})
afterEach(async () => {
  await cleanupPrefix(w.prefix)
  await w.close()
})

/** The repo, the payload's author and the bot as a write collaborator. */
function seedRepo(double: GiteaDouble, payload: Record<string, unknown>): RepoRef {
  const p = payload as { repository: { owner: { login: string }; name: string }; sender: { login: string } }
  for (const login of new Set([p.repository.owner.login, p.sender.login]))
    if (!double.store.userByLogin(login)) double.createUser({ login })
  const repo = double.createRepo({ owner: p.repository.owner.login, name: p.repository.name })
  double.addCollaborator(repo, BOT, 'write')
  return repo
}

function labelsOn(repo: RepoRef, n: number): string[] {
  return w.gitea.double.labelNames(repo, n).sort()
}

async function run(event: SupportedEvent, payload: unknown, deliveryId: string) {
  const job = eventJob(event, payload, deliveryId)
  const handler = [triageNewIssue, learnFromCorrections].find((h) => h.accepts(job))
  if (!handler) return []
  return w.executor.apply(await handler.handle(job, w.ctx))
}

describe('triage of opened deliveries through the handler, the Executor and the adapter', () => {
  const cases: {
    name: string
    event: SupportedEvent
    file: string
    seed(double: GiteaDouble, repo: RepoRef, sender: string): void
    number: number
    expected: string[]
  }[] = [
    {
      name: 'synthetic issue: a crash with a stack trace',
      event: 'issues',
      file: 'synthetic/issues-opened.json',
      seed: (d, repo, author) =>
        d.createIssue(repo, {
          title: 'App crashes when the config file is missing',
          body: 'Steps to reproduce:\n1. delete `config.yml`\n2. run `demo start`\n\nExpected a helpful error, got a stack trace.',
          author,
        }),
      number: 1,
      expected: ['house/bezalel', 'priority/p0', 'status/triaged', 'type/bug'],
    },
    {
      name: 'captured issue (drone/go-scm): "Found a bug"',
      event: 'issues',
      file: 'captured/drone-go-scm-issues-opened.json',
      seed: (d, repo, author) => d.createIssue(repo, { title: 'Problem', body: 'Found a bug', author }),
      number: 1,
      expected: ['house/bezalel', 'priority/p2', 'status/triaged', 'type/bug'],
    },
    {
      name: 'captured issue (go-playground): no cue at all -> needs triage, no type',
      event: 'issues',
      file: 'captured/go-playground-webhooks-issues-opened.json',
      seed: (d, repo, author) => d.createIssue(repo, { title: 'example', body: '', author }),
      number: 1,
      expected: ['house/bezalel', 'priority/p2', 'status/needs-triage'],
    },
    {
      name: 'synthetic pull request: code change, size from line counts',
      event: 'pull_request',
      file: 'synthetic/pull_request-opened.json',
      seed: (d, repo, author) => {
        d.createIssue(repo, { title: 'App crashes', author })
        d.openPullRequest(repo, {
          title: 'Handle a missing config file gracefully',
          body: 'Fixes #1\n\nFalls back to built-in defaults and prints a warning when `config.yml` is absent.',
          author,
          head: 'fix-config',
          files: [{ filename: 'src/config.ts', status: 'modified', additions: 12, deletions: 2 }],
        })
      },
      number: 2,
      expected: ['house/bezalel', 'priority/p2', 'size/S', 'status/needs-triage'],
    },
    {
      name: 'captured pull request (go-playground): "update" typed docs by its changed paths',
      event: 'pull_request',
      file: 'captured/go-playground-webhooks-pull_request-opened.json',
      seed: (d, repo, author) => {
        d.createIssue(repo, { title: 'first', author })
        d.openPullRequest(repo, {
          title: 'update',
          author,
          files: [
            { filename: 'README.md', status: 'modified', additions: 300, deletions: 20 },
            { filename: 'docs/intro.md', status: 'added', additions: 100, deletions: 0 },
          ],
        })
      },
      number: 2,
      expected: ['house/ezra', 'priority/p3', 'size/L', 'status/triaged', 'type/docs'],
    },
  ]

  it.each(cases)('$name', async (c) => {
    const payload = fixture(c.file)
    const repo = seedRepo(w.gitea.double, payload)
    c.seed(w.gitea.double, repo, (payload as { sender: { login: string } }).sender.login)
    await run(c.event, payload, `d-${c.name}`)
    const labels = labelsOn(repo, c.number)
    expect(labels).toEqual(c.expected)
    for (const [scope, held] of Object.entries(scopes(labels))) expect(held, scope).toHaveLength(1)
    // Missing catalogue labels were created as exclusive scoped labels.
    const created = [...w.gitea.double.repoOf(repo).labels.values()]
    expect(created.every((l) => l.exclusive)).toBe(true)
    const comments = w.gitea.double.comments(repo, c.number)
    expect(comments).toHaveLength(1)
    expect(comments[0]?.body).toContain('/label type/question')
    for (const l of c.expected) expect(comments[0]?.body).toContain(`\`${l}\``)
    const record = await w.store.getRecord(repo, c.number)
    expect(record?.applied.sort()).toEqual(c.expected)
    expect(record?.trigger).toBe('opened')
  })

  it('ignores other actions and events the bot sent itself', async () => {
    const payload = fixture('synthetic/issues-opened.json')
    const repo = seedRepo(w.gitea.double, payload)
    w.gitea.double.createIssue(repo, { title: 'App crashes', author: 'bob' })
    const closed = { ...payload, action: 'closed' }
    expect(triageNewIssue.accepts(eventJob('issues', closed, 'd-closed'))).toBe(false)
    const fromBot = { ...payload, sender: { id: 1, login: BOT } }
    expect(await triageNewIssue.handle(eventJob('issues', fromBot, 'd-bot'), w.ctx)).toEqual([])
    expect(labelsOn(repo, 1)).toEqual([])
  })

  it('does nothing when triage is disabled', async () => {
    const payload = fixture('synthetic/issues-opened.json')
    const repo = seedRepo(w.gitea.double, payload)
    w.gitea.double.createIssue(repo, { title: 'App crashes', author: 'bob' })
    const job = eventJob('issues', payload, 'd-off')
    expect(
      await triageNewIssue.handle(job, { ...w.ctx, config: { ...w.ctx.config, enabled: false } }),
    ).toEqual([])
  })
})

describe('labels people set', () => {
  const CRASH = {
    title: 'App crashes when the config file is missing',
    body: 'Expected a helpful error, got a stack trace.',
  }

  function seedAliceDemo(): RepoRef {
    const payload = fixture('synthetic/issues-opened.json')
    const repo = seedRepo(w.gitea.double, payload)
    if (!w.gitea.double.store.userByLogin('alice')) w.gitea.double.createUser({ login: 'alice' })
    for (const name of ['type/feature', 'type/question', 'priority/p3'])
      w.gitea.double.createLabel(repo, { name, color: 'ededed', exclusive: true })
    return repo
  }

  it('survive triage and /triage: the bot fills only the empty scopes', async () => {
    const repo = seedAliceDemo()
    w.gitea.double.createIssue(repo, { ...CRASH, author: 'alice', labels: ['type/feature', 'priority/p3'] })
    await run('issues', fixture('synthetic/issues-opened.json'), 'd-1')
    expect(labelsOn(repo, 1)).toEqual(['house/bezalel', 'priority/p3', 'status/triaged', 'type/feature'])
    const comment = w.gitea.double.comments(repo, 1)[0]?.body ?? ''
    expect(comment).toContain('Left as set: `type/feature`, `priority/p3`')

    const again = await w.triage.triage({
      repo,
      issue: 1,
      requester: 'alice',
      deliveryId: 'd-2',
      commentId: 7,
    })
    expect(again).toEqual([])
    expect(labelsOn(repo, 1)).toEqual(['house/bezalel', 'priority/p3', 'status/triaged', 'type/feature'])
  })

  it('a stale or empty label list in the payload is corrected by re-reading the issue', async () => {
    const repo = seedAliceDemo()
    w.gitea.double.createIssue(repo, { ...CRASH, author: 'bob' })
    // A person set the type after the delivery was built: the payload still says "no labels".
    const typeQuestion = [...w.gitea.double.repoOf(repo).labels.values()].find(
      (l) => l.name === 'type/question',
    )!
    await w.as('alice').addIssueLabels(repo, 1, [typeQuestion.id])
    const payload = fixture('synthetic/issues-opened.json') as { issue: { labels: unknown } }
    payload.issue.labels = [{ id: 999, name: 'type/docs' }]
    await run('issues', payload, 'd-stale')
    const labels = labelsOn(repo, 1)
    expect(labels).toContain('type/question')
    expect(labels).not.toContain('type/bug')
    expect(labels).not.toContain('type/docs')
    expect(scopes(labels).type).toEqual(['type/question'])
  })

  it('/triage twice: one comment, no label change the second time; a removed bot label stays removed', async () => {
    const repo = seedAliceDemo()
    w.gitea.double.createIssue(repo, { ...CRASH, author: 'bob' })
    const first = await w.triage.triage({
      repo,
      issue: 1,
      requester: 'alice',
      deliveryId: 'd-a',
      commentId: 10,
    })
    await w.executor.apply(first)
    const after = labelsOn(repo, 1)
    expect(after).toEqual(['house/bezalel', 'priority/p0', 'status/triaged', 'type/bug'])
    const second = await w.triage.triage({
      repo,
      issue: 1,
      requester: 'alice',
      deliveryId: 'd-b',
      commentId: 11,
    })
    expect(second).toEqual([])
    await w.executor.apply(second)
    expect(w.gitea.double.comments(repo, 1)).toHaveLength(1)
    expect(labelsOn(repo, 1)).toEqual(after)

    const p0 = [...w.gitea.double.repoOf(repo).labels.values()].find((l) => l.name === 'priority/p0')!
    await w.as('alice').removeIssueLabel(repo, 1, p0.id)
    await w.executor.apply(
      await w.triage.triage({ repo, issue: 1, requester: 'alice', deliveryId: 'd-c', commentId: 12 }),
    )
    expect(labelsOn(repo, 1)).toEqual(['house/bezalel', 'status/triaged', 'type/bug'])
  })
})

describe('learning from corrections', () => {
  function labelEvent(repo: RepoRef, sender: string, staleLabels: string[]) {
    const payload = fixture('synthetic/issues-label_updated.json') as Record<string, unknown> & {
      issue: { labels: unknown; number: number }
      sender: unknown
      repository: { name: string; full_name: string; owner: { login: string } }
    }
    payload.sender = { id: 77, login: sender }
    payload.issue.labels = staleLabels.map((name, i) => ({ id: 500 + i, name }))
    payload.repository.owner.login = repo.owner
    payload.repository.name = repo.name
    return payload
  }

  it('a person changing the bot’s type becomes a training example and updates the repo model once', async () => {
    const payload = fixture('synthetic/issues-opened.json')
    const repo = seedRepo(w.gitea.double, payload)
    w.gitea.double.createIssue(repo, {
      title: 'App crashes when the config file is missing',
      body: 'Expected a helpful error, got a stack trace.',
      author: 'bob',
    })
    await run('issues', payload, 'd-open')
    expect((await w.store.getRecord(repo, 1))?.botType).toBe('type/bug')

    // The bot's own label event teaches nothing.
    await run('issue_label', labelEvent(repo, BOT, ['type/bug']), 'd-bot')
    expect(await w.store.listExamples(repo)).toHaveLength(0)

    const q = w.gitea.double.createLabel(repo, { name: 'type/question', color: 'd876e3', exclusive: true })
    await w.as('alice').addIssueLabels(repo, 1, [q.id])
    expect(scopes(labelsOn(repo, 1)).type).toEqual(['type/question'])
    // The payload's list is stale (still the bot's type/bug): the handler re-reads.
    await run('issue_label', labelEvent(repo, 'alice', ['type/bug']), 'd-fix')
    const examples = await w.store.listExamples(repo)
    expect(examples.map((e) => [e.issue, e.example.label])).toEqual([[1, 'question']])
    const model = await w.models.get(repo)
    expect(model?.exampleCount).toBe(1)
    expect(model?.classes).toContain('question')
    const revision = await w.store.modelRevision(repo)

    // The same correction delivered again (or another label event) is not learnt twice.
    await run('issue_label', labelEvent(repo, 'alice', ['type/question']), 'd-again')
    expect(await w.store.listExamples(repo)).toHaveLength(1)
    expect(await w.store.modelRevision(repo)).toBe(revision)
  })

  it('a person settling a needs-triage issue teaches the model and moves the bot’s status to triaged', async () => {
    const payload = fixture('captured/go-playground-webhooks-issues-opened.json')
    const repo = seedRepo(w.gitea.double, payload)
    w.gitea.double.createUser({ login: 'alice' })
    w.gitea.double.addCollaborator(repo, 'alice', 'write')
    w.gitea.double.createIssue(repo, { title: 'example', body: '', author: 'example' })
    await run('issues', payload, 'd-open')
    expect(labelsOn(repo, 1)).toContain('status/needs-triage')
    const q = w.gitea.double.createLabel(repo, { name: 'type/question', color: 'd876e3', exclusive: true })
    await w.as('alice').addIssueLabels(repo, 1, [q.id])
    await run('issue_label', labelEvent(repo, 'alice', []), 'd-settle')
    expect(labelsOn(repo, 1)).toEqual(['house/bezalel', 'priority/p2', 'status/triaged', 'type/question'])
    expect(await w.store.listExamples(repo)).toHaveLength(1)
  })

  it('a label event on an issue the bot never triaged teaches nothing', async () => {
    const payload = fixture('synthetic/issues-opened.json')
    const repo = seedRepo(w.gitea.double, payload)
    w.gitea.double.createIssue(repo, { title: 'Crash', author: 'bob', labels: [] })
    await run('issue_label', labelEvent(repo, 'bob', []), 'd-x')
    expect(await w.store.listExamples(repo)).toHaveLength(0)
    expect(await w.models.get(repo)).toBeUndefined()
  })
})
