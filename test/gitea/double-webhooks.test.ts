import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startGiteaDouble, type RunningGiteaDouble } from '../../src/gitea/double/index.js'
import { goJson } from '../../src/gitea/double/webhook-sender.js'
import { GiteaJsAdapter } from '../../src/gitea/gitea-js-adapter.js'
import { seedGiteaWorld, type GiteaWorld } from '../helpers/gitea-world.js'

interface Received {
  headers: IncomingHttpHeaders
  body: string
}

const SECRET = 'webhook-test-secret'
const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../fixtures/gitea-webhooks/${name}`, import.meta.url), 'utf8'))

/** Every key path of a JSON value, arrays collapsed to their first element: its shape. */
function shape(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.length > 0 ? shape(value[0], `${prefix}[]`) : []
  if (value === null || typeof value !== 'object') return []
  return Object.entries(value).flatMap(([k, v]) => [`${prefix}.${k}`, ...shape(v, `${prefix}.${k}`)])
}

/** Paths where one side is null/empty and the other is not are value differences, not shape. */
function keyPaths(value: unknown): string[] {
  return shape(value).filter((p) => p !== '')
}

describe('Gitea double webhooks', () => {
  let running: RunningGiteaDouble
  let receiver: Server
  let received: Received[]
  let receiverUrl: string
  let answer: number
  let w: GiteaWorld

  beforeEach(async () => {
    received = []
    answer = 202
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
        res.writeHead(answer).end()
      })
    })
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/gitea`
    running = await startGiteaDouble()
    w = seedGiteaWorld(running.double)
  })

  afterEach(async () => {
    running.double.assertContract()
    await running.stop()
    await new Promise((resolve) => receiver.close(resolve))
  })

  const hook = (contentType: 'json' | 'form' = 'json') =>
    running.double.addHook(w.repo, { url: receiverUrl, secret: SECRET, contentType })
  const settle = () => running.double.settleWebhooks()
  const payloadOf = (r: Received): Record<string, unknown> =>
    JSON.parse(
      r.headers['content-type'] === 'application/json'
        ? r.body
        : (new URLSearchParams(r.body).get('payload') ?? ''),
    ) as Record<string, unknown>
  const jsonOf = (r: Received) =>
    r.headers['content-type'] === 'application/json'
      ? r.body
      : (new URLSearchParams(r.body).get('payload') ?? '')

  it('signs each delivery like Gitea: HMAC-SHA256 over the JSON, in every signature header', async () => {
    hook('json')
    running.double.createIssue(w.repo, { title: 'New bug', author: 'bob' })
    await settle()
    expect(received).toHaveLength(1)
    const [r] = received
    if (!r) throw new Error('no delivery')
    const expected = createHmac('sha256', SECRET).update(r.body).digest('hex')
    expect(r.headers['x-gitea-signature']).toBe(expected)
    expect(r.headers['x-gogs-signature']).toBe(expected)
    expect(r.headers['x-hub-signature-256']).toBe(`sha256=${expected}`)
    expect(r.headers['x-hub-signature']).toBe(
      `sha1=${createHmac('sha1', SECRET).update(r.body).digest('hex')}`,
    )
    expect(r.headers['x-gitea-delivery']).toMatch(/^[0-9a-f-]{36}$/)
    expect(r.headers['x-gogs-delivery']).toBe(r.headers['x-gitea-delivery'])
    expect(r.headers).toMatchObject({
      'x-gitea-event': 'issues',
      'x-gitea-event-type': 'issues',
      'x-gogs-event': 'issues',
    })
    expect(payloadOf(r)).toMatchObject({ action: 'opened', number: 3, sender: { login: 'bob' } })
    expect(running.double.deliveries.at(-1)).toMatchObject({ status: 202, done: true, eventType: 'issues' })
  })

  it('a form-encoded delivery carries payload=<json> and is signed over the JSON, not the form', async () => {
    hook('form')
    running.double.createComment(w.repo, w.issue, { author: 'bob', body: '/help' })
    await settle()
    const [r] = received
    if (!r) throw new Error('no delivery')
    expect(r.headers['content-type']).toBe('application/x-www-form-urlencoded')
    const json = jsonOf(r)
    expect(r.headers['x-gitea-signature']).toBe(createHmac('sha256', SECRET).update(json).digest('hex'))
    expect(r.headers['x-gitea-signature']).not.toBe(createHmac('sha256', SECRET).update(r.body).digest('hex'))
    expect(payloadOf(r)).toMatchObject({ action: 'created', is_pull: false, comment: { body: '/help' } })
  })

  it('a hook without a secret still sends the signature headers, empty', async () => {
    running.double.addHook(w.repo, { url: receiverUrl, secret: '', contentType: 'json' })
    running.double.createIssue(w.repo, { title: 'x', author: 'bob' })
    await settle()
    expect(received[0]?.headers).toMatchObject({ 'x-gitea-signature': '', 'x-hub-signature-256': 'sha256=' })
  })

  it('delivers the bot’s own API actions too: comments, edits and label changes', async () => {
    hook()
    const bot = new GiteaJsAdapter({ baseUrl: running.url, token: w.tokens.bot })
    const comment = await bot.createComment(w.repo, w.pull, 'ack')
    await bot.editComment(w.repo, comment.id, 'done')
    await bot.addIssueLabels(w.repo, w.issue, [w.labels.bug])
    await bot.addIssueLabels(w.repo, w.pull, [w.labels.typeBug])
    await settle()
    const seen = received.map((r) => [
      r.headers['x-gitea-event'],
      r.headers['x-gitea-event-type'],
      payloadOf(r).action,
    ])
    expect(seen).toEqual([
      ['issue_comment', 'pull_request_comment', 'created'],
      ['issue_comment', 'pull_request_comment', 'edited'],
      ['issues', 'issue_label', 'label_updated'],
      ['pull_request', 'pull_request_label', 'label_updated'],
    ])
    for (const r of received) expect(payloadOf(r)).toMatchObject({ sender: { login: 'gitea-bot' } })
    expect(payloadOf(received[0] as Received)).toMatchObject({ is_pull: true, pull_request: { number: 2 } })
    expect(payloadOf(received[1] as Received)).toMatchObject({ changes: { body: { from: 'ack' } } })
    expect(payloadOf(received[2] as Received)).toMatchObject({ issue: { labels: [{ name: 'bug' }] } })
  })

  it('sends one issue_assign delivery per assignee changed, unassigned for a removal, like Gitea', async () => {
    hook()
    const edit = async (assignees: string[]) => {
      const r = await fetch(`${running.url}/api/v1/repos/alice/demo/issues/${w.issue}`, {
        method: 'PATCH',
        headers: { authorization: `token ${w.tokens.carol}`, 'content-type': 'application/json' },
        body: JSON.stringify({ assignees }),
      })
      return r
    }
    expect((await edit(['alice', 'bob'])).status).toBe(201)
    expect((await edit(['bob', 'carol'])).status).toBe(201)
    expect((await edit([])).status).toBe(201)
    expect((await edit([])).status).toBe(201) // no change, no delivery
    await settle()
    expect(received).toHaveLength(6)
    // In the order the double sent them (deliveries travel side by side and may arrive crossed).
    const seen = running.double.deliveries.map((d) => {
      const p = JSON.parse(d.body) as { action: string; issue: { assignees: { login: string }[] | null } }
      return [d.eventType, p.action, (p.issue.assignees ?? []).map((a) => a.login).join(',')]
    })
    expect(seen).toEqual([
      ['issue_assign', 'assigned', 'alice,bob'],
      ['issue_assign', 'assigned', 'alice,bob'],
      ['issue_assign', 'unassigned', 'bob,carol'],
      ['issue_assign', 'assigned', 'bob,carol'],
      ['issue_assign', 'unassigned', ''],
      ['issue_assign', 'unassigned', ''],
    ])
  })

  it.each([
    [
      'issues-opened.json',
      () => running.double.createIssue(w.repo, { title: 't', body: 'b', author: 'bob' }),
    ],
    ['pull_request-opened.json', () => running.double.openPullRequest(w.repo, { title: 't', author: 'bob' })],
    [
      'issue_comment-created-issue.json',
      () => running.double.createComment(w.repo, 1, { author: 'bob', body: 'hi' }),
    ],
    [
      'issue_comment-created-pull_request.json',
      () => running.double.createComment(w.repo, 2, { author: 'alice', body: 'hi' }),
    ],
    [
      'issue_comment-edited.json',
      () => {
        const c = running.double.createComment(w.repo, 1, { author: 'bob', body: 'hi' })
        received.length = 0
        running.double.editComment(w.repo, c.id, { editor: 'bob', body: 'hello' })
      },
    ],
  ])('payload has the exact field layout of Gitea 1.26.3’s %s', async (name, act) => {
    hook()
    act()
    await settle()
    const r = received.at(-1)
    if (!r) throw new Error('no delivery')
    const ours = keyPaths(JSON.parse(r.body))
    const theirs = keyPaths(fixture(name))
    // Same keys in the same order, wherever both sides have a value there.
    const comparable = (paths: string[], other: string[]) =>
      paths.filter((p) => other.some((o) => o.startsWith(`${p}.`) || o === p))
    expect(comparable(ours, theirs)).toEqual(comparable(theirs, ours))
    // Keys present on one side only must be under values that are null/empty on the other.
    const onlyOurs = ours.filter((p) => !theirs.includes(p))
    const onlyTheirs = theirs.filter((p) => !ours.includes(p))
    expect(onlyOurs.filter((p) => !p.includes('[]'))).toEqual([])
    expect(onlyTheirs.filter((p) => !p.includes('[]'))).toEqual([])
  })

  it('records the receiver’s status and a failed delivery, without retrying', async () => {
    answer = 500
    hook()
    running.double.addHook(w.repo, {
      url: 'http://127.0.0.1:1/unreachable',
      secret: SECRET,
      contentType: 'json',
    })
    running.double.createIssue(w.repo, { title: 'x', author: 'bob' })
    await settle()
    const [ok, down] = running.double.deliveries
    expect(ok).toMatchObject({ status: 500, done: true })
    expect(down?.status).toBeUndefined()
    expect(down?.error).toBeTruthy()
    expect(received).toHaveLength(1)
  })

  it('sendWebhook delivers an arbitrary payload, signed', async () => {
    hook()
    const payload = { action: 'created', note: '<b>&</b>' }
    running.double.sendWebhook(w.repo, 'issue_comment', payload, 'pull_request_comment')
    await settle()
    const [r] = received
    expect(r?.body).toBe(goJson(payload))
    expect(r?.body).toContain('\\u003cb\\u003e\\u0026')
    expect(r?.headers['x-gitea-event-type']).toBe('pull_request_comment')
    expect(r?.headers['x-gitea-signature']).toBe(
      createHmac('sha256', SECRET)
        .update(r?.body ?? '')
        .digest('hex'),
    )
  })

  it('reproduces Gitea’s byte layout: goJson of a fixture re-serialises to the signed bytes', () => {
    const raw = readFileSync(
      new URL('../fixtures/gitea-webhooks/issues-opened.json', import.meta.url),
      'utf8',
    )
    expect(goJson(JSON.parse(raw))).toBe(raw)
  })
})
