import { describe, expect, it } from 'vitest'
import { resolveEventType } from '../../src/events/event-type.js'
import { EventJob, isSupportedEvent, parsePayload } from '../../src/events/payloads.js'
import { toCommentEvent } from '../../src/events/to-comment-event.js'
import { capturedDeliveries, syntheticDeliveries, type Delivery } from './deliveries.js'

function jobOf(d: Delivery): EventJob {
  const event = d.event
  if (!isSupportedEvent(event)) throw new Error(`unsupported ${event}`)
  const parsed = parsePayload(event, JSON.parse(d.body.toString('utf8')))
  if (!parsed.ok) throw new Error(parsed.problem.path)
  // Through JSON and the job schema, as the router will see it after BullMQ.
  return EventJob.parse(
    JSON.parse(
      JSON.stringify({
        deliveryId: 'd-1',
        event,
        action: parsed.payload.action,
        receivedAt: new Date(0).toISOString(),
        payload: parsed.payload,
      }),
    ),
  )
}

const byName = (name: string) =>
  [...syntheticDeliveries(), ...capturedDeliveries()].find((d) => d.name === name)!

describe('toCommentEvent', () => {
  const cases: [string, object | undefined][] = [
    [
      'issues-opened.json',
      { source: 'issue_body', action: 'created', commentId: undefined, author: { login: 'bob', id: 2 } },
    ],
    [
      'issue_comment-created-issue.json',
      { source: 'issue_comment', action: 'created', issue: { number: 1, isPull: false } },
    ],
    [
      'issue_comment-created-pull_request.json',
      {
        source: 'pull_request_comment',
        action: 'created',
        commentId: 3,
        body: 'Looks good to me. @gitea-bot approve',
        author: { login: 'alice', id: 1 },
        issue: { number: 2, isPull: true, htmlUrl: 'http://localhost:3000/alice/demo/pulls/2' },
        htmlUrl: 'http://localhost:3000/alice/demo/pulls/2#issuecomment-3',
        repo: { owner: 'alice', name: 'demo', fullName: 'alice/demo' },
      },
    ],
    ['issue_comment-edited.json', { source: 'issue_comment', action: 'edited' }],
    ['pull_request-opened.json', { source: 'pull_request_body', action: 'created', issue: { isPull: true } }],
    ['issues-label_updated.json', undefined],
    ['woodpecker-pull_request-synchronized.json', undefined],
    ['drone-go-scm-issues-closed.json', undefined],
    // Older servers: no is_pull, no issue.html_url; the PR-ness comes from issue.pull_request.
    [
      'drone-go-scm-issue_comment-created-on-pr.json',
      {
        source: 'pull_request_comment',
        issue: { isPull: true, htmlUrl: expect.stringMatching(/\/pulls\/\d+$/) },
      },
    ],
    [
      'drone-go-scm-issue_comment-created.json',
      { source: 'issue_comment', issue: { isPull: false, htmlUrl: expect.stringMatching(/\/issues\/\d+$/) } },
    ],
    ['drone-go-scm-issue_comment-deleted.json', { action: 'deleted' }],
    [
      'woodpecker-pull_request-opened-legacy-sample.json',
      { source: 'pull_request_body', issue: { number: 1 } },
    ],
  ]
  it.each(cases)('%s', (name, expected) => {
    const comment = toCommentEvent(jobOf(byName(name)))
    if (expected === undefined) expect(comment).toBeUndefined()
    else expect(comment).toMatchObject({ deliveryId: 'd-1', ...expected })
  })

  it('normalises every synthetic and captured comment delivery', () => {
    for (const d of [...syntheticDeliveries(), ...capturedDeliveries()]) {
      if (!d.event.endsWith('comment') || d.name.endsWith('(form)')) continue
      const comment = toCommentEvent(jobOf(d))
      expect(comment?.source, d.name).toBe(
        d.event === 'pull_request_comment' ? 'pull_request_comment' : 'issue_comment',
      )
    }
  })
})

describe('resolveEventType', () => {
  const cases: [string | undefined, string | undefined, unknown, string | undefined][] = [
    ['issue_label', 'issues', {}, 'issue_label'],
    [undefined, 'issues', {}, 'issues'],
    [undefined, 'issue_comment', { is_pull: true }, 'pull_request_comment'],
    [undefined, 'issue_comment', { issue: { pull_request: { merged: false } } }, 'pull_request_comment'],
    [undefined, 'issue_comment', { issue: { pull_request: null } }, 'issue_comment'],
    [undefined, 'pull_request_comment', { comment: {} }, 'pull_request_comment'],
    [undefined, 'pull_request_comment', { review: {} }, 'pull_request_review_comment'],
    [undefined, 'pull_request_approved', {}, 'pull_request_review_approved'],
    [undefined, undefined, {}, undefined],
  ]
  it.each(cases)('type %s, event %s, payload %j -> %s', (eventType, event, payload, expected) => {
    expect(resolveEventType({ eventType, event }, payload)).toBe(expected)
  })
})
