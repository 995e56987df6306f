import { readFileSync } from 'node:fs'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { assignToHouse } from '../../handlers/assign-to-house.js'
import { houseLabelTrigger } from '../../handlers/house-label-trigger.js'
import type { HouseInfo } from '../../src/commands-core/command-spec.js'
import type { Effect } from '../../src/effects/effects.js'
import { EventJob, parsePayload, type SupportedEvent } from '../../src/events/payloads.js'
import type { EventHandlerContext } from '../../src/router/event-handler.js'
import { TriageConfig } from '../../src/triage/triage-config.js'
import { CONFIG, HOUSES, job, world, type World } from '../commands/helpers/world.js'

// The houses of the command tests, with Gitea logins: bezalel implements, timmy reviews, ezra
// answers; allegro has a login but no agent.
const LOGINS: Record<string, string> = {
  bezalel: 'bezalel-bot',
  timmy: 'timmy-bot',
  ezra: 'ezra-bot',
  allegro: 'allegro-bot',
}
const HOUSES_WITH_LOGINS: HouseInfo[] = HOUSES.map((h) => ({ ...h, login: LOGINS[h.name] }))

/** A real captured `assigned` delivery (go-playground/webhooks), moved to o/r #1. */
function assignedPayload(action: string, assignees: string[], sender = 'wendy', labels: string[] = []) {
  const raw = JSON.parse(
    readFileSync(
      new URL('../fixtures/webhooks/captured/go-playground-webhooks-issues-assigned.json', import.meta.url),
      'utf8',
    ),
  ) as {
    issue: Record<string, unknown>
    repository: Record<string, unknown> & { owner: Record<string, unknown> }
    sender: Record<string, unknown>
  }
  const template = raw.issue.assignee as Record<string, unknown>
  const users = assignees.map((login, i) => ({ ...template, id: 100 + i, login }))
  return {
    ...raw,
    action,
    number: 1,
    issue: {
      ...raw.issue,
      number: 1,
      html_url: 'http://gitea/o/r/issues/1',
      assignee: users[0] ?? null,
      assignees: users.length > 0 ? users : null,
      labels: labels.map((name, i) => ({ id: i + 1, name, color: 'ee0701' })),
    },
    repository: {
      ...raw.repository,
      name: 'r',
      full_name: 'o/r',
      html_url: 'http://gitea/o/r',
      owner: { ...raw.repository.owner, login: 'o' },
    },
    sender: { ...raw.sender, id: sender === 'wendy' ? 5 : 6, login: sender },
  }
}

function eventJob(event: SupportedEvent, payload: unknown, deliveryId: string): EventJob {
  const parsed = parsePayload(event, payload)
  if (!parsed.ok) throw new Error(`payload does not parse: ${parsed.problem.path} ${parsed.problem.message}`)
  return EventJob.parse({
    deliveryId,
    event,
    action: (payload as { action: string }).action,
    receivedAt: '2026-01-01T00:00:00.000Z',
    payload: parsed.payload,
  })
}

function eventCtx(w: World): EventHandlerContext {
  return {
    botLogin: 'uw-bot',
    config: TriageConfig.parse({}),
    log: pino({ level: 'silent' }),
    commandContext: (e) => w.ctx(e),
  }
}

async function handle(
  w: World,
  action: 'assigned' | 'unassigned',
  assignees: string[],
  opts: { sender?: string; delivery?: string } = {},
): Promise<Effect[]> {
  const j = eventJob(
    'issue_assign',
    assignedPayload(action, assignees, opts.sender),
    opts.delivery ?? 'd-assign',
  )
  expect(assignToHouse.accepts(j)).toBe(true)
  return assignToHouse.handle(j, eventCtx(w))
}

const enqueued = (effects: Effect[]) => effects.flatMap((e) => (e.type === 'enqueueJob' ? [e.job] : []))
const comments = (effects: Effect[]) => effects.flatMap((e) => (e.type === 'comment' ? [e.body] : []))

describe('assigning an issue to a house (handlers/assign-to-house.ts)', () => {
  it('assigned to a house login: an ack naming the assignment and /implement queued on that house for the assigner', async () => {
    const w = world({ houses: HOUSES_WITH_LOGINS })
    const effects = await handle(w, 'assigned', ['bezalel-bot'])
    const [jobReq] = enqueued(effects)
    expect(enqueued(effects)).toHaveLength(1)
    expect(jobReq).toMatchObject({
      house: 'bezalel',
      tool: 'agent.implement',
      args: {},
      requester: { login: 'wendy', id: 5 },
      origin: {
        deliveryId: 'd-assign',
        repo: { owner: 'o', name: 'r' },
        issue: 1,
        commentId: undefined,
        commentUrl: 'http://gitea/o/r/issues/1',
        command: '(assigned to @bezalel-bot)',
      },
      houseReason: 'assigned to @bezalel-bot: house bezalel implements this',
      mode: 'SIMPLE',
    })
    expect(jobReq?.jobId).toMatch(/^j[0-9a-f]{12}$/)
    const [ack] = comments(effects)
    // The login is shown inert (no second ping of the house's account).
    expect(ack).toMatch(/house chosen: assigned to \\@\u2060bezalel\\-bot\\: house bezalel implements this/)
    expect(ack).toContain(jobReq?.jobId)
    // Ack first, then the job: the same order as /implement (the executor links the two).
    expect(effects.map((e) => e.type)).toEqual(['comment', 'enqueueJob'])
  })

  it('queues the same job /implement @bezalel would, apart from where it came from', async () => {
    const w = world({ houses: HOUSES_WITH_LOGINS })
    const [viaAssign] = enqueued(await handle(w, 'assigned', ['bezalel-bot']))
    const { implement } = await import('../../commands/implement.js')
    const { commentEvent } = await import('../commands/helpers/world.js')
    const ctx = {
      ...w.ctx(commentEvent('/implement @bezalel')),
      command: { name: 'implement', raw: '/implement @bezalel', index: 0 } as never,
      requester: { login: 'wendy', id: 5 },
      commentKey: (p: string) => `k:${p}`,
      jobId: 'jcommand00000',
    }
    const [viaCommand] = enqueued(await implement.handle(ctx, { house: 'bezalel' }))
    const strip = (j: typeof viaAssign) => ({
      ...j,
      jobId: undefined,
      origin: undefined,
      ackCommentKey: undefined,
      houseReason: undefined,
    })
    expect(strip(viaAssign)).toEqual(strip(viaCommand))
  })

  it.each([
    ['a login that is no house', ['bob']],
    ['nobody left (someone else unassigned)', []],
  ])('assigned to %s: nothing', async (_name, assignees) => {
    const w = world({ houses: HOUSES_WITH_LOGINS })
    expect(await handle(w, 'assigned', assignees)).toEqual([])
  })

  it('houses without a login are never started by an assignment', async () => {
    const w = world()
    expect(await handle(w, 'assigned', ['bezalel'])).toEqual([])
  })

  it('assigned by a reader: a polite comment, nothing queued', async () => {
    const w = world({ houses: HOUSES_WITH_LOGINS })
    const effects = await handle(w, 'assigned', ['bezalel-bot'], { sender: 'rita' })
    expect(enqueued(effects)).toEqual([])
    expect(comments(effects)).toHaveLength(1)
    expect(comments(effects)[0]).toMatch(
      /@rita, assigning this issue to @bezalel-bot .* your permission here is `read`\. Nothing was queued/,
    )
  })

  it('assigned to a house login whose house has no agent: says why, nothing queued', async () => {
    const w = world({ houses: HOUSES_WITH_LOGINS })
    const effects = await handle(w, 'assigned', ['allegro-bot'])
    expect(enqueued(effects)).toEqual([])
    expect(comments(effects)[0]).toContain('has no agent')
  })

  it('the same delivery twice gives the same job id and comment key; another delivery another id', async () => {
    const w = world({ houses: HOUSES_WITH_LOGINS })
    const first = await handle(w, 'assigned', ['bezalel-bot'])
    const again = await handle(w, 'assigned', ['bezalel-bot'])
    expect(again).toEqual(first)
    // Even when the first attempt already queued it (a retry after a partial failure).
    w.jobs.jobs.push(
      job(enqueued(first)[0]!.jobId, { tool: 'agent.implement', command: '(assigned to @bezalel-bot)' }),
    )
    expect(await handle(w, 'assigned', ['bezalel-bot'])).toEqual(first)
    const other = world({ houses: HOUSES_WITH_LOGINS })
    const [j2] = enqueued(await handle(other, 'assigned', ['bezalel-bot'], { delivery: 'd-other' }))
    expect(j2?.jobId).not.toBe(enqueued(first)[0]?.jobId)
  })

  it('assigning someone else while the house is still assigned starts nothing new', async () => {
    const w = world({ houses: HOUSES_WITH_LOGINS })
    for (const state of ['queued', 'running', 'success', 'failure'] as const) {
      w.jobs.jobs = [
        job('jearlier00000', { tool: 'agent.implement', state, command: '(assigned to @bezalel-bot)' }),
      ]
      expect(await handle(w, 'assigned', ['bezalel-bot', 'carol'], { delivery: 'd-carol' })).toEqual([])
    }
    // A job the house's unassignment cancelled does not hold a new assignment back.
    w.jobs.jobs = [
      job('jearlier00000', {
        tool: 'agent.implement',
        state: 'cancelled',
        command: '(assigned to @bezalel-bot)',
      }),
    ]
    expect(enqueued(await handle(w, 'assigned', ['bezalel-bot'], { delivery: 'd-again' }))).toHaveLength(1)
    // An /implement someone typed is not an assignment's job.
    w.jobs.jobs = [job('jcommand00000', { tool: 'agent.implement', command: '/implement @bezalel' })]
    expect(enqueued(await handle(w, 'assigned', ['bezalel-bot'], { delivery: 'd-again2' }))).toHaveLength(1)
  })

  it('unassigned: cancels the queued or waiting job the assignment started, and a running one, saying so', async () => {
    const w = world({ houses: HOUSES_WITH_LOGINS })
    const marker = '(assigned to @bezalel-bot)'
    w.jobs.jobs = [
      job('jqueued000000', { tool: 'agent.implement', state: 'queued', command: marker }),
      job('jwaiting00000', { tool: 'agent.implement', state: 'awaiting_approval', command: marker }),
      job('jrunning00000', { tool: 'agent.implement', state: 'running', command: marker }),
      job('jdone00000000', { tool: 'agent.implement', state: 'success', command: marker }),
      job('jtyped0000000', { tool: 'agent.implement', state: 'queued', command: '/implement @bezalel' }),
      job('jother0000000', { tool: 'agent.implement', house: 'timmy', state: 'queued', command: marker }),
    ]
    const effects = await handle(w, 'unassigned', ['carol'], { delivery: 'd-unassign' })
    expect(effects.filter((e) => e.type === 'cancelJob')).toEqual([
      { type: 'cancelJob', jobId: 'jqueued000000', by: 'wendy', reason: '@bezalel-bot was unassigned' },
      { type: 'cancelJob', jobId: 'jwaiting00000', by: 'wendy', reason: '@bezalel-bot was unassigned' },
      { type: 'cancelJob', jobId: 'jrunning00000', by: 'wendy', reason: '@bezalel-bot was unassigned' },
    ])
    const [text] = comments(effects)
    expect(text).toContain('@wendy unassigned @bezalel-bot')
    expect(text).toContain('`jrunning00000` was already running: it is being stopped')
    expect(text).toContain('`jqueued000000` (queued) is cancelled')
  })

  it('unassigned while the house is still assigned (someone else left): nothing cancelled', async () => {
    const w = world({ houses: HOUSES_WITH_LOGINS })
    w.jobs.jobs = [job('jqueued000000', { tool: 'agent.implement', command: '(assigned to @bezalel-bot)' })]
    expect(await handle(w, 'unassigned', ['bezalel-bot'])).toEqual([])
  })

  it('unassigned by a reader: the job goes on, and the comment says so', async () => {
    const w = world({ houses: HOUSES_WITH_LOGINS })
    w.jobs.jobs = [job('jqueued000000', { tool: 'agent.implement', command: '(assigned to @bezalel-bot)' })]
    const effects = await handle(w, 'unassigned', [], { sender: 'rita' })
    expect(effects.some((e) => e.type === 'cancelJob')).toBe(false)
    expect(comments(effects)[0]).toContain('The job goes on')
  })

  it('does not take pull request assignments, label events or comments', () => {
    const plain = assignedPayload('assigned', ['bezalel-bot'])
    const pr = { ...plain, issue: { ...plain.issue, pull_request: { merged: false } } }
    expect(assignToHouse.accepts(eventJob('issue_assign', pr, 'd'))).toBe(false)
    const labelled = { ...assignedPayload('label_updated', []) }
    expect(assignToHouse.accepts(eventJob('issue_label', labelled, 'd'))).toBe(false)
  })
})

describe('house/<name> labels start a house default task (handlers/house-label-trigger.ts)', () => {
  const labelJob = (labels: string[], sender = 'wendy', delivery = 'd-label') =>
    eventJob('issue_label', assignedPayload('label_updated', [], sender, labels), delivery)

  it('is off by default: adding house/bezalel starts nothing', async () => {
    const w = world({ issueLabels: ['house/bezalel'] })
    const j = labelJob(['house/bezalel'])
    expect(houseLabelTrigger.accepts(j)).toBe(true)
    expect(await houseLabelTrigger.handle(j, eventCtx(w))).toEqual([])
    expect(w.port.calls).toEqual([])
  })

  it('when on: house/bezalel on an issue starts its implementation, once per issue', async () => {
    const config = { ...CONFIG, agents: { labelTriggers: true } }
    const w = world({ issueLabels: ['house/bezalel', 'house/ezra'], config })
    const effects = await houseLabelTrigger.handle(labelJob(['house/bezalel']), eventCtx(w))
    const [req] = enqueued(effects)
    expect(enqueued(effects)).toHaveLength(1)
    // ezra (analysis) has no default task: a question cannot come from a label.
    expect(req).toMatchObject({
      house: 'bezalel',
      tool: 'agent.implement',
      requester: { login: 'wendy' },
      origin: { command: '(label house/bezalel)' },
    })
    // A later label change finds that job and starts nothing new.
    w.jobs.jobs = [
      job(req!.jobId, { tool: 'agent.implement', state: 'success', command: '(label house/bezalel)' }),
    ]
    expect(
      await houseLabelTrigger.handle(labelJob(['house/bezalel', 'type/bug'], 'wendy', 'd-2'), eventCtx(w)),
    ).toEqual([])
  })

  it('when on: a reader labelling starts nothing', async () => {
    const config = { ...CONFIG, agents: { labelTriggers: true } }
    const w = world({ issueLabels: ['house/bezalel'], config })
    expect(await houseLabelTrigger.handle(labelJob(['house/bezalel'], 'rita'), eventCtx(w))).toEqual([])
  })
})
