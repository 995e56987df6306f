import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EventJob } from '../../src/events/payloads.js'
import { signBody } from '../../src/server/verify-signature.js'
import { capturedDeliveries, SYNTHETIC_SECRET, syntheticDeliveries, type Delivery } from './deliveries.js'
import { BOT_LOGIN, startIngress, total, type Ingress } from './harness.js'

let ingress: Ingress
beforeAll(async () => {
  ingress = await startIngress()
})
afterAll(async () => {
  await ingress.close()
})

/** Fresh delivery id per POST, so table rows never dedupe against each other. */
let seq = 0
function fresh(headers: Record<string, string>): Record<string, string> {
  const id = `t-${Date.now()}-${seq++}`
  return { ...headers, 'X-Gitea-Delivery': id }
}

function signed(d: Delivery, secret = SYNTHETIC_SECRET): Record<string, string> {
  const sig = signBody(d.body, secret)
  return { ...d.headers, 'X-Gitea-Signature': sig, 'X-Hub-Signature-256': `sha256=${sig}` }
}

const QUEUED = new Set([
  'issues',
  'issue_assign',
  'issue_label',
  'issue_milestone',
  'issue_comment',
  'pull_request_comment',
  'pull_request',
  'pull_request_label',
  'pull_request_sync',
])

async function expectAccepted(d: Delivery, headers: Record<string, string>) {
  const before = total(await ingress.counts())
  const res = await ingress.post(headers, d.body)
  if (d.event === 'push') {
    expect(res).toEqual({ status: 200, body: { ignored: true, event: 'push', reason: 'event not handled' } })
    expect(total(await ingress.counts())).toBe(before)
    return
  }
  expect(QUEUED.has(d.event)).toBe(true)
  expect(res).toEqual({ status: 202, body: { deliveryId: headers['X-Gitea-Delivery'], event: d.event } })
  const jobs = await ingress.jobs()
  const mine = jobs.find((j) => (j.data as { deliveryId: string }).deliveryId === headers['X-Gitea-Delivery'])
  const job = EventJob.parse(mine?.data)
  expect(job.event).toBe(d.event)
  expect(job.action).toBe(d.action)
  expect(total(await ingress.counts())).toBe(before + 1)
}

describe('POST /webhooks/gitea accepts', () => {
  it.each(syntheticDeliveries().map((d) => [d.name, d] as const))(
    'synthetic %s with its recorded headers and HMAC',
    async (_name, d) => {
      // The recorded delivery id and signature, unchanged: the ingress must take Gitea's own vectors.
      await expectAccepted(d, d.headers)
    },
  )

  it.each(capturedDeliveries().map((d) => [d.name, d] as const))('captured %s', async (_name, d) => {
    await expectAccepted(d, signed(d))
  })

  it('takes the event from X-Gitea-Event alone, refining issue_comment on a PR', async () => {
    const d = syntheticDeliveries().find((x) => x.name === 'issue_comment-created-pull_request.json')!
    const headers = fresh(signed(d))
    delete headers['X-Gitea-Event-Type']
    const res = await ingress.post(headers, d.body)
    expect(res.body).toMatchObject({ event: 'pull_request_comment' })
  })

  it('takes the event from X-Forgejo-Event-Type and checks X-Forgejo-Signature', async () => {
    const d = syntheticDeliveries().find((x) => x.name === 'issues-opened.json')!
    const res = await ingress.post(
      {
        'Content-Type': 'application/json',
        'X-Gitea-Delivery': `forgejo-${seq++}`,
        'X-Forgejo-Event-Type': 'issues',
        'X-Forgejo-Signature': signBody(d.body, SYNTHETIC_SECRET),
      },
      d.body,
    )
    expect(res).toMatchObject({ status: 202, body: { event: 'issues' } })
  })
})

describe('POST /webhooks/gitea refuses without side effects', () => {
  const base = syntheticDeliveries().find((x) => x.name === 'issue_comment-created-issue.json')!
  const form = syntheticDeliveries().find((x) => x.name === 'issue_comment-created-issue.json (form)')!
  const json = JSON.parse(base.body.toString('utf8')) as Record<string, unknown>
  const withBody = (payload: unknown) => {
    const body = Buffer.from(JSON.stringify(payload))
    return { headers: fresh(signed({ ...base, body })), body }
  }
  const cases: [string, () => { headers: Record<string, string>; body: Buffer }, number, unknown][] = [
    [
      'a tampered body',
      () => ({ headers: fresh(base.headers), body: Buffer.from(base.body.toString().replace('bob', 'eve')) }),
      401,
      { error: 'signature mismatch' },
    ],
    [
      'a wrong secret',
      () => ({ headers: fresh(signed(base, 'not-the-secret')), body: base.body }),
      401,
      { error: 'signature mismatch' },
    ],
    [
      'empty signatures (a hook without a secret)',
      () => ({
        headers: fresh({ ...base.headers, 'X-Gitea-Signature': '', 'X-Hub-Signature-256': 'sha256=' }),
        body: base.body,
      }),
      401,
      { error: 'missing signature' },
    ],
    [
      'no signature header',
      () => {
        const headers = fresh(base.headers)
        delete headers['X-Gitea-Signature']
        delete headers['X-Hub-Signature-256']
        return { headers, body: base.body }
      },
      401,
      { error: 'missing signature' },
    ],
    [
      'a good X-Gitea-Signature with a forged X-Hub-Signature-256',
      () => ({
        headers: fresh({ ...base.headers, 'X-Hub-Signature-256': `sha256=${'0'.repeat(64)}` }),
        body: base.body,
      }),
      401,
      { error: 'signature mismatch' },
    ],
    [
      'a form body signed over the form instead of the JSON',
      () => ({
        headers: fresh({
          ...form.headers,
          'X-Gitea-Signature': signBody(form.body, SYNTHETIC_SECRET),
          'X-Hub-Signature-256': '',
        }),
        body: form.body,
      }),
      401,
      { error: 'signature mismatch' },
    ],
    [
      'a wrong content type',
      () => ({ headers: fresh({ ...base.headers, 'Content-Type': 'text/plain' }), body: base.body }),
      415,
      { error: 'content type must be application/json or application/x-www-form-urlencoded' },
    ],
    [
      'broken JSON (well signed)',
      () => {
        const body = Buffer.from('{"action": "created", ')
        return { headers: fresh(signed({ ...base, body })), body }
      },
      400,
      { error: 'body is not valid JSON' },
    ],
    [
      'a form body without payload',
      () => {
        const body = Buffer.from('data=1')
        return {
          headers: fresh({
            ...signed({ ...base, body }),
            'Content-Type': 'application/x-www-form-urlencoded',
          }),
          body,
        }
      },
      400,
      { error: 'form body has no payload field' },
    ],
    [
      'a missing delivery header',
      () => {
        const headers = { ...base.headers }
        delete headers['X-Gitea-Delivery']
        return { headers, body: base.body }
      },
      400,
      { error: 'missing X-Gitea-Delivery header' },
    ],
    [
      'a missing event header',
      () => {
        const headers = fresh(base.headers)
        delete headers['X-Gitea-Event']
        delete headers['X-Gitea-Event-Type']
        return { headers, body: base.body }
      },
      400,
      { error: 'missing X-Gitea-Event-Type / X-Gitea-Event header' },
    ],
    [
      'a delivery id with a colon',
      () => ({ headers: { ...base.headers, 'X-Gitea-Delivery': 'a:b' }, body: base.body }),
      400,
      { error: 'X-Gitea-Delivery must be 1-128 of [A-Za-z0-9_.-]' },
    ],
    [
      'a signed payload whose issue number is a string',
      () => withBody({ ...json, issue: { ...(json.issue as object), number: '7' } }),
      422,
      { path: 'issue.number' },
    ],
    [
      'a signed payload without a comment',
      () => withBody({ ...json, comment: undefined }),
      422,
      { path: 'comment' },
    ],
    ['a signed JSON array', () => withBody([1, 2]), 422, { path: '(root)' }],
    [
      "the bot's own comment",
      () => withBody({ ...json, sender: { ...(json.sender as object), login: BOT_LOGIN.toUpperCase() } }),
      200,
      { dropped: true, reason: 'sent by the bot itself', event: 'issue_comment' },
    ],
  ]

  it.each(cases)('%s', async (_name, make, status, body) => {
    const before = await ingress.counts()
    const req = make()
    const res = await ingress.post(req.headers, req.body)
    expect(res.status).toBe(status)
    expect(res.body).toMatchObject(body as object)
    expect(await ingress.counts()).toEqual(before)
  })

  it('answers a replayed delivery as a duplicate and enqueues it once', async () => {
    const headers = fresh(base.headers)
    const first = await ingress.post(headers, base.body)
    expect(first.status).toBe(202)
    const after = await ingress.counts()
    const second = await ingress.post(headers, base.body)
    expect(second).toEqual({
      status: 200,
      body: { duplicate: true, deliveryId: headers['X-Gitea-Delivery'] },
    })
    // Also through the other content type: the delivery id, not the bytes, is what is deduped.
    const third = await ingress.post(
      { ...form.headers, 'X-Gitea-Delivery': headers['X-Gitea-Delivery']! },
      form.body,
    )
    expect(third.status).toBe(200)
    expect(await ingress.counts()).toEqual(after)
  })

  it('enqueues concurrent replays of one delivery exactly once', async () => {
    const headers = fresh(base.headers)
    const before = total(await ingress.counts())
    const results = await Promise.all(Array.from({ length: 8 }, () => ingress.post(headers, base.body)))
    expect(results.filter((r) => r.status === 202)).toHaveLength(1)
    expect(results.filter((r) => r.status === 200)).toHaveLength(7)
    expect(total(await ingress.counts())).toBe(before + 1)
  })
})
