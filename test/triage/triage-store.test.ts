import { Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { runTriageTrain } from '../../src/cli/triage-train.js'
import { RedisTriageStore } from '../../src/triage/redis-triage-store.js'
import { RepoModels } from '../../src/triage/repo-models.js'
import { MemoryTriageStore, type TriageStore } from '../../src/triage/triage-store.js'
import { type TriageRecord } from '../../src/triage/triage-record.js'
import { startGiteaDouble } from '../../src/gitea/double/index.js'
import { GiteaJsAdapter } from '../../src/gitea/gitea-js-adapter.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

const REPO = { owner: 'alice', name: 'demo' }
const redis = new Redis(testRedisUrl())
const prefixes: string[] = []
afterEach(async () => {
  for (const p of prefixes.splice(0)) await cleanupPrefix(p)
})
afterAll(() => redis.disconnect())

const stores: [string, () => TriageStore][] = [
  ['memory', () => new MemoryTriageStore()],
  [
    'redis',
    () => {
      const prefix = uniquePrefix()
      prefixes.push(prefix)
      return new RedisTriageStore(redis, prefix)
    },
  ],
]

const record: TriageRecord = {
  repo: 'alice/demo',
  issue: 3,
  at: '2025-01-01T00:00:00.000Z',
  deliveryId: 'd-1',
  trigger: 'opened',
  applied: ['type/bug', 'status/triaged'],
  botType: 'type/bug',
  decision: {
    type: 'type/bug',
    priority: 'priority/p2',
    house: 'house/bezalel',
    size: null,
    confidence: 0.8,
    needsTriage: false,
    typeSource: 'rules',
  },
  reasons: { 'type/bug': ['"crash" in title'] },
  commented: true,
  learnedType: null,
}

describe.each(stores)('%s triage store', (_name, make) => {
  it('round-trips records and examples (one example per issue)', async () => {
    const store = make()
    expect(await store.getRecord(REPO, 3)).toBeUndefined()
    await store.putRecord(record)
    expect(await store.getRecord(REPO, 3)).toEqual(record)
    expect(await store.putExample(REPO, 3, { title: 'a', body: 'b', label: 'bug' })).toBe(1)
    expect(await store.putExample(REPO, 3, { title: 'a', body: 'b', label: 'question' })).toBe(1)
    expect(await store.putExample(REPO, 4, { title: 'c', label: 'bug' })).toBe(2)
    const listed = (await store.listExamples(REPO)).sort((x, y) => x.issue - y.issue)
    expect(listed).toEqual([
      { issue: 3, example: { title: 'a', body: 'b', label: 'question' } },
      { issue: 4, example: { title: 'c', body: '', label: 'bug' } },
    ])
  })

  it('saves models compare-and-set: a stale revision is refused, force always wins', async () => {
    const store = make()
    expect(await store.saveModel(REPO, 'v1', undefined)).toBe(1)
    expect(await store.saveModel(REPO, 'stale', undefined)).toBeUndefined()
    expect(await store.saveModel(REPO, 'v2', 1)).toBe(2)
    expect(await store.saveModel(REPO, 'stale', 1)).toBeUndefined()
    expect(await store.saveModel(REPO, 'forced', undefined, true)).toBe(3)
    expect(await store.loadModel(REPO)).toEqual({ revision: 3, text: 'forced' })
    expect(await store.modelRevision(REPO)).toBe(3)
  })
})

describe('repo model persistence in Redis', () => {
  it('a model learnt in one process is loaded by another, with version and example count, and predicts the same', async () => {
    const prefix = uniquePrefix()
    prefixes.push(prefix)
    const a = new RepoModels(new RedisTriageStore(redis, prefix))
    expect(await a.get(REPO)).toBeUndefined()
    const learnt = await a.learn(REPO, [
      { title: 'How do I configure the proxy?', body: 'Is there a way to set it?', label: 'question' },
      { title: 'Crash on save', body: 'segfault', label: 'bug' },
    ])
    const updated = await a.learn(REPO, [{ title: 'Add dark mode', body: 'please add', label: 'feature' }])
    expect(updated.exampleCount).toBe(3)
    expect(updated.version).toBe(learnt.version + 1)

    const b = new RepoModels(new RedisTriageStore(redis, prefix))
    const loaded = await b.get(REPO)
    expect(loaded?.exampleCount).toBe(3)
    expect(loaded?.version).toBe(updated.version)
    const text = { title: 'Is it possible to change the port?', body: '' }
    expect(loaded?.predict(text).scores).toEqual(updated.predict(text).scores)
  })

  it('an unreadable stored model is treated as absent (rules take over)', async () => {
    const prefix = uniquePrefix()
    prefixes.push(prefix)
    const store = new RedisTriageStore(redis, prefix)
    await store.saveModel(REPO, '{"kind":"something else"}', undefined)
    expect(await new RepoModels(store).get(REPO)).toBeUndefined()
  })
})

describe('uni-wizard triage train', () => {
  it('pulls closed labelled issues through the port, trains and stores the repo model', async () => {
    const gitea = await startGiteaDouble()
    try {
      const d = gitea.double
      const bot = d.createUser({ login: 'gitea-bot' })
      d.createUser({ login: 'alice' })
      const repo = d.createRepo(REPO)
      d.addCollaborator(repo, 'gitea-bot', 'write')
      for (const name of ['type/bug', 'type/question'])
        d.createLabel(repo, { name, color: 'ededed', exclusive: true })
      const texts: [string, string][] = [
        ['Crash on start', 'type/bug'],
        ['Segfault when saving', 'type/bug'],
        ['How do I set the port?', 'type/question'],
        ['Is there a way to log in with SSO?', 'type/question'],
      ]
      for (const [title, label] of texts) d.createIssue(repo, { title, author: 'alice', labels: [label] })
      d.createIssue(repo, { title: 'Unlabelled', author: 'alice' })
      d.createIssue(repo, { title: 'Still open', author: 'alice', labels: ['type/bug'] })
      const admin = new GiteaJsAdapter({ baseUrl: gitea.url, token: d.tokenOf('alice') })
      for (const n of [1, 2, 3, 4, 5]) await admin.editIssue(repo, n, { state: 'closed' })

      const prefix = uniquePrefix()
      prefixes.push(prefix)
      const out: string[] = []
      const env = { GITEA_URL: gitea.url, GITEA_TOKEN: bot.token, REDIS_URL: testRedisUrl() }
      expect(await runTriageTrain(['--repo', 'alice/demo'], env, (l) => out.push(l), { prefix })).toBe(0)
      expect(out[0]).toContain('trained on 4 examples (4 closed issues, 0 corrections)')
      const model = await new RepoModels(new RedisTriageStore(redis, prefix)).get(REPO)
      expect(model?.exampleCount).toBe(4)

      await expect(
        runTriageTrain(['--repo', 'alice/demo'], { ...env, REDIS_URL: '' }, () => undefined),
      ).rejects.toThrow(/REDIS_URL/)
    } finally {
      await gitea.stop()
    }
  })
})
