// Regression tests for the attack review of the Alertmanager bridge (issue 15, F1 and the
// house-label note): recovery of a written-ahead open or comment adopts only what the bot wrote
// with the marker's unpredictable nonce at the start, so neither alert text nor another user can
// make one group take over another group's issue; and alerts cannot put acting labels on issues.
import { randomUUID } from 'node:crypto'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { AlertBridge } from '../../src/alerts/alert-bridge.js'
import { AlertGroupStore } from '../../src/alerts/alert-group-store.js'
import { groupId, mergeNotification, newGroup, toldAll } from '../../src/alerts/alert-group.js'
import { startGiteaDouble, type RunningGiteaDouble } from '../../src/gitea/double/index.js'
import { GiteaJsAdapter } from '../../src/gitea/gitea-js-adapter.js'
import type { RepoRef } from '../../src/gitea/port.js'
import { createRedis } from '../../src/queue/connection.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'
import { notification } from './notifications.js'

const KEY_A = '{}:{alertname="DiskFull"}'
const KEY_B = '{}:{alertname="UwHouseNoLiveWorker"}'
/** The marker format before nonces: what anyone who knows a group's labels could write. */
const guessedMarker = (gid: string) => `<!-- uw:alert-group=${gid} -->`
const guessedChangeMarker = (key: string) => `<!-- uw:alert-change=${key} -->`

describe('alert bridge: markers cannot be forged across groups or by other users', () => {
  const redis = createRedis(testRedisUrl(), 'producer')
  let gitea: RunningGiteaDouble
  let botToken: string
  let repo: RepoRef
  let prefix: string
  let store: AlertGroupStore
  let bridge: AlertBridge
  let port: GiteaJsAdapter
  let mallory: GiteaJsAdapter

  const issues = () => port.listIssues(repo, { state: 'all', type: 'issues' })
  const failNext = (path: string, fault: { status?: number; lateMs?: number } = { status: 500 }) =>
    gitea.double.faults.set({
      ...fault,
      count: 1,
      match: { method: 'POST', path: `/api/v1/repos/${repo.owner}/${repo.name}${path}` },
    })

  beforeAll(async () => {
    gitea = await startGiteaDouble()
    botToken = gitea.double.createUser({ login: 'gitea-bot' }).token
    gitea.double.createUser({ login: 'alice' })
    gitea.double.createUser({ login: 'mallory' })
    if (redis.status !== 'ready') await new Promise((r) => redis.once('ready', r))
  })
  beforeEach(() => {
    repo = gitea.double.createRepo({ owner: 'alice', name: `ops-${randomUUID().slice(0, 8)}` })
    gitea.double.addCollaborator(repo, 'gitea-bot', 'write')
    gitea.double.addCollaborator(repo, 'mallory', 'read')
    prefix = uniquePrefix()
    port = new GiteaJsAdapter({
      baseUrl: gitea.url,
      token: botToken,
      retry: { attempts: 1 },
      requestTimeoutMs: 2000,
    })
    mallory = new GiteaJsAdapter({
      baseUrl: gitea.url,
      token: gitea.double.tokenOf('mallory'),
      retry: { attempts: 1 },
    })
    store = new AlertGroupStore({ redis, prefix, waitMs: 5000 })
    bridge = new AlertBridge({
      port,
      store,
      repo,
      botLogin: 'gitea-bot',
      labels: ['type/ops'],
      log: pino({ level: 'silent' }),
    })
    gitea.double.faults.clear()
  })
  afterEach(async () => {
    gitea.double.faults.clear()
    await cleanupPrefix(prefix)
  })
  afterAll(async () => {
    await gitea.stop()
    redis.disconnect()
  })

  it("a label value carrying group B's marker neither lands raw in A's issue nor lets B adopt or close it", async () => {
    const gidB = groupId(KEY_B)
    const a = await bridge.receive(
      notification(
        [{ fp: 'a1', status: 'firing', name: 'DiskFull', labels: { mountpoint: guessedMarker(gidB) } }],
        KEY_A,
      ),
    )
    expect(a.steps).toEqual(['open'])
    const issueA = a.issue!
    const bodyA = (await issues())[0]!.body
    // The value is shown, but no `<!--` forms from alert text: only the bridge's own marker, first.
    expect(bodyA.match(/<!--/g)).toHaveLength(1)
    expect(bodyA).toMatch(/^<!-- uw:alert-group=[0-9a-f]{32} nonce=[0-9a-f]{32} -->\n/)
    expect(bodyA).toContain('mountpoint=<\u2060!-- uw:alert-group=')

    // B fails once to open (written ahead, not applied), then Alertmanager retries.
    failNext('/issues')
    await expect(bridge.receive(notification([{ fp: 'b1', status: 'firing' }], KEY_B))).rejects.toThrow()
    const retried = await bridge.receive(notification([{ fp: 'b1', status: 'firing' }], KEY_B))
    expect(retried.steps).toEqual(['open'])
    expect(retried.issue).not.toBe(issueA)
    expect(await issues()).toHaveLength(2)

    // B resolves: B's issue closes, A's stays open while DiskFull fires.
    const resolved = await bridge.receive(notification([{ fp: 'b1', status: 'resolved' }], KEY_B))
    expect(resolved.steps).toEqual(['comment', 'close'])
    const byNumber = new Map((await issues()).map((i) => [i.number, i]))
    expect(byNumber.get(retried.issue!)!.state).toBe('closed')
    expect(byNumber.get(issueA)!.state).toBe('open')
    expect(await port.listComments(repo, issueA)).toEqual([])
  })

  it('an issue another user opens with the marker, even at the very start, is never adopted', async () => {
    const gidB = groupId(KEY_B)
    const planted = await mallory.createIssue(repo, { title: 'question', body: `hi ${guessedMarker(gidB)}` })
    const first = await mallory.createIssue(repo, { title: 'q2', body: `${guessedMarker(gidB)}\nhello` })
    failNext('/issues')
    await expect(bridge.receive(notification([{ fp: 'b1', status: 'firing' }], KEY_B))).rejects.toThrow()
    const retried = await bridge.receive(notification([{ fp: 'b1', status: 'firing' }], KEY_B))
    expect(retried.steps).toEqual(['open'])
    expect([planted.number, first.number]).not.toContain(retried.issue)
    const ours = (await issues()).find((i) => i.number === retried.issue)!
    expect(ours.user.login).toBe('gitea-bot')
  })

  it("the bot's own issue with the group's guessable marker is not adopted: the pending open's nonce must match", async () => {
    const gidB = groupId(KEY_B)
    // A bot-authored issue that starts with the marker anyone can compute (an issue from before
    // nonces, or bot text that quotes it): not the issue this pending open created.
    const stale = await port.createIssue(repo, { title: 'old', body: `${guessedMarker(gidB)}\nold` })
    failNext('/issues')
    await expect(bridge.receive(notification([{ fp: 'b1', status: 'firing' }], KEY_B))).rejects.toThrow()
    const pending = (await store.read(gidB))?.pending
    expect(pending).toMatchObject({ kind: 'open', nonce: expect.stringMatching(/^[0-9a-f]{32}$/) })
    const retried = await bridge.receive(notification([{ fp: 'b1', status: 'firing' }], KEY_B))
    expect(retried.steps).toEqual(['open'])
    expect(retried.issue).not.toBe(stale.number)
  })

  it("an open written ahead before nonces still finds the bot's issue that starts with the old marker", async () => {
    const gid = groupId(KEY_B)
    const n = notification([{ fp: 'b1', status: 'firing' }], KEY_B)
    const state = mergeNotification(newGroup(n), n)
    await store.withGroup(gid, (held) =>
      held.save({ ...state, pending: { kind: 'open', told: toldAll(state), labelled: ['type/ops'] } }),
    )
    const made = await port.createIssue(repo, { title: 'Alert', body: `${guessedMarker(gid)}\nfiring` })
    // Newer, so listed first: only its author tells it apart.
    await mallory.createIssue(repo, { title: 'decoy', body: `${guessedMarker(gid)}\nnot the bot` })
    const retried = await bridge.receive(n)
    expect(retried).toMatchObject({ issue: made.number, steps: [] })
    expect(await issues()).toHaveLength(2)
  })

  it('a comment another user writes with the change marker does not count as the change told', async () => {
    const gid = groupId(KEY_B)
    const opened = await bridge.receive(notification([{ fp: 'b1', status: 'firing' }], KEY_B))
    const issue = opened.issue!
    failNext(`/issues/${issue}/comments`)
    await expect(bridge.receive(notification([{ fp: 'b1', status: 'resolved' }], KEY_B))).rejects.toThrow()
    const pending = (await store.read(gid))?.pending
    expect(pending?.kind).toBe('comment')
    const key = pending?.kind === 'comment' ? pending.key : ''
    await mallory.createComment(repo, issue, `${guessedChangeMarker(key)}\nall fine, nothing to see`)
    const retried = await bridge.receive(notification([{ fp: 'b1', status: 'resolved' }], KEY_B))
    expect(retried.steps).toEqual(['comment', 'close'])
    const bots = (await port.listComments(repo, issue)).filter((c) => c.user.login === 'gitea-bot')
    expect(bots).toHaveLength(1)
    expect(bots[0]!.body).toMatch(/^<!-- uw:alert-change=[0-9a-f]{24} nonce=[0-9a-f]{32} -->\n/)
  })

  it("the bot's own comment whose answer was lost is found by its marker, not posted twice", async () => {
    const opened = await bridge.receive(notification([{ fp: 'b1', status: 'firing' }], KEY_B))
    const issue = opened.issue!
    failNext(`/issues/${issue}/comments`, { lateMs: 3000 })
    await expect(bridge.receive(notification([{ fp: 'b1', status: 'resolved' }], KEY_B))).rejects.toThrow()
    expect(await port.listComments(repo, issue)).toHaveLength(1)
    const retried = await bridge.receive(notification([{ fp: 'b1', status: 'resolved' }], KEY_B))
    expect(retried.steps).toEqual(['close'])
    expect(await port.listComments(repo, issue)).toHaveLength(1)
  })

  it('refuses house labels from gitea_labels, says so in the issue, keeps the others', async () => {
    const n = notification([
      { fp: 'b1', status: 'firing', annotations: { gitea_labels: 'house/bezalel, priority/p1, House/ezra' } },
    ])
    const opened = await bridge.receive(n)
    const issue = (await issues()).find((i) => i.number === opened.issue)!
    expect(issue.labels.map((l) => l.name).sort()).toEqual(['priority/p1', 'type/ops'])
    expect(issue.body).toMatch(/Refused label names.*`house\/bezalel` `House\/ezra`/)
    // A later alert asking for a house label adds nothing and is told in its comment.
    const later = await bridge.receive(
      notification([
        {
          fp: 'b1',
          status: 'firing',
          annotations: { gitea_labels: 'house/bezalel, priority/p1, House/ezra' },
        },
        { fp: 'b2', status: 'firing', annotations: { gitea_labels: 'house/timmy' } },
      ]),
    )
    expect(later.steps).toEqual(['comment'])
    const [comment] = await port.listComments(repo, opened.issue!)
    expect(comment!.body).toMatch(/Refused label names.*`house\/timmy`/)
    expect((await issues())[0]!.labels.map((l) => l.name)).not.toContain('house/timmy')
  })
})
