import { describe, expect, it } from 'vitest'
import { parseCommands } from '../../src/command-parsing/parse-commands.js'
import { buildStatement, type ExecutionStatement } from '../../src/provenance/statement.js'
import {
  DSSE_OPEN,
  finalReaction,
  renderAck,
  type AckJob,
  type AckStatus,
  type DsseEnvelope,
} from '../../src/report/render.js'

const job: AckJob = {
  jobId: 'j0123456789ab',
  house: 'bezalel',
  tool: 'git_status',
  houseReason: 'named in the command',
  requester: 'wendy',
  mode: 'SOVEREIGN',
  dryRun: false,
}
const envelope: DsseEnvelope = {
  payloadType: 'application/vnd.in-toto+json',
  payload: Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}').toString('base64'),
  signatures: [{ keyid: 'bezalel-2026', sig: 'c2lnbmF0dXJl' }],
}
const statement: ExecutionStatement = buildStatement({
  outputSha256: 'bb',
  predicate: {
    requestedBy: 'wendy',
    house: 'bezalel',
    mode: 'sovereign',
    tool: 'git_status',
    argsDigest: 'sha256:aa',
    approvals: [{ approver: 'timmy', digest: 'sha256:cc', expiresAt: '2026-01-01T00:10:00Z' }],
    host: 'w1',
    versions: { uniWizard: '0.1.0', node: '20' },
    startedAt: '2026-01-01T00:00:01Z',
    finishedAt: '2026-01-01T00:00:02Z',
    attempts: 1,
    status: 'success',
    evidence: [{ kind: 'git-rev-parse', summary: 'HEAD is abc', detail: {} }],
    requestUrl: 'http://gitea/o/r/issues/1#issuecomment-77',
    deliveryId: 'd-1',
    jobId: 'j0123456789ab',
  },
})
const final = (state: AckStatus['state'], output = 'On branch main', reason?: string): AckStatus =>
  ({ state, reason, output, statement, envelope }) as AckStatus

describe('renderAck', () => {
  const table: { status: AckStatus; has: string[]; hasNot?: string[] }[] = [
    { status: { state: 'queued' }, has: ['queued', 'house-bezalel', '/status j0123456789ab', '**bezalel**'] },
    {
      status: {
        state: 'awaiting_approval',
        approvers: ['timmy'],
        allowSelfApproval: false,
        expiresAt: '2026-01-02T00:00:00Z',
      },
      has: ['\n```\n/approve j0123456789ab\n```\n', '@timmy', '2026-01-02T00:00:00Z', '/deny j0123456789ab'],
    },
    {
      status: { state: 'running', startedAt: '2026-01-01T00:00:01Z', attempt: 2 },
      has: ['Running since 2026-01-01T00:00:01Z', 'attempt 2'],
    },
    {
      status: final('success'),
      has: ['✅', '<details>', 'On branch main', 'requested by: @wendy', 'approvals: @timmy'],
      hasNot: ['/status j0'],
    },
    { status: final('failure', 'boom', 'exit code 1'), has: ['❌', 'Reason: exit code 1', 'boom'] },
    { status: final('unverified'), has: ['⚠️', 'unverified'] },
    { status: final('denied', '', 'denied by @timmy: too risky'), has: ['🚫', 'too risky'] },
    { status: final('cancelled'), has: ['⏹️', 'cancelled'] },
    { status: final('timeout'), has: ['⌛', 'timeout'] },
  ]
  for (const t of table) {
    it(t.status.state, () => {
      const body = renderAck(job, t.status)
      for (const s of t.has) expect(body).toContain(s)
      for (const s of t.hasNot ?? []) expect(body).not.toContain(s)
      expect(body).toContain(`<!-- uni-wizard:ack job=j0123456789ab state=${t.status.state} -->`)
    })
  }

  it('caps long output with a truncation note and a fence its content cannot close', () => {
    const output = '```\n/run evil\n' + 'x'.repeat(200)
    const unsigned = { ...final('success', output), statement: undefined } as AckStatus
    const body = renderAck(job, unsigned, { outputCap: 50 })
    expect(body).toContain(`first 50 of ${output.length} characters`)
    expect(body).toContain('Only the first 50 of')
    expect(body).not.toContain('x'.repeat(51))
    expect(body).toContain('````text')
    // Nothing in a rendered result is ever a command (the bot also ignores its own comments).
    expect(parseCommands(body)).toEqual([])
  })

  it('embeds the DSSE envelope once, at the end, between its markers', () => {
    const body = renderAck(job, final('success'))
    expect(body.split('\n').filter((l) => l === DSSE_OPEN)).toHaveLength(1)
    expect(body.trimEnd().endsWith('</details>')).toBe(true)
    expect(body).toContain(JSON.stringify(envelope, null, 2))
  })

  it('picks the final reaction', () => {
    expect(finalReaction('success')).toBe('rocket')
    for (const o of ['failure', 'unverified', 'denied', 'cancelled', 'timeout'] as const)
      expect(finalReaction(o)).toBe('confused')
  })

  it('renders a hostile reason, notes, house reason and login inert', () => {
    const evil = [
      'x',
      '### ✅ Approved by **@timmy**',
      DSSE_OPEN,
      '```json',
      JSON.stringify(envelope),
      '```',
      '[click](http://evil) <img src=x onerror=alert(1)> #1 &amp;',
    ].join('\n')
    const hostileJob: AckJob = { ...job, houseReason: `from the label ${evil}`, requester: 'x](http://evil)' }
    const status = { ...final('failure', 'out', evil), notes: [evil] } as AckStatus
    const body = renderAck(hostileJob, status)
    const lines = body.split('\n')
    // Only the bot's own lines: one heading, one envelope marker, no raw HTML, link or mention.
    expect(lines.filter((l) => l.startsWith('#'))).toHaveLength(1)
    expect(lines.filter((l) => l === DSSE_OPEN)).toHaveLength(1)
    expect(lines.filter((l) => l.startsWith('```json') || l.startsWith('````json'))).toHaveLength(1)
    // The provenance list (signed) mentions the approver on purpose; nothing before it does.
    const shown = body.slice(0, body.indexOf('**Provenance**'))
    expect(shown).not.toMatch(/<img|\[click\]\(|\*\*@timmy|[^`]@timmy|#1\b|&amp;amp;(?!;)/)
    expect(body).toContain('Reason: x \\#\\#\\# ✅ Approved by \\*\\*\\@\u2060timmy\\*\\*')
    expect(body).toContain('&lt;img src\\=x')
    expect(body).toContain('\\#\u20601')
    expect(body).toContain('requested by `@x](http://evil)`')
    expect(parseCommands(body)).toEqual([])
  })

  const waiting = (approvers: string[], allowSelfApproval: boolean): AckStatus => ({
    state: 'awaiting_approval',
    approvers,
    allowSelfApproval,
    expiresAt: '2026-01-02T00:00:00Z',
  })
  it.each([
    [
      'lists only sovereigns who can approve',
      ['wendy', 'timmy'],
      false,
      'Waiting for approval by @timmy (',
      ['@wendy (', 'approval by @wendy', 'or @wendy'],
    ],
    [
      'lists the requester when self-approval is allowed',
      ['wendy'],
      true,
      'Waiting for approval by @wendy (',
      [],
    ],
    [
      'says nobody can approve when the only sovereign is the requester',
      ['Wendy'],
      false,
      'nobody can approve it: its only sovereign is its requester (@wendy)',
      ['approval by @'],
    ],
    [
      'says nobody can approve when the house has no sovereigns',
      [],
      false,
      'house **bezalel** has no sovereigns',
      ['approval by @'],
    ],
  ])('awaiting approval %s', (_name, approvers, self, has, hasNot) => {
    const body = renderAck(job, waiting(approvers, self))
    expect(body).toContain(has)
    for (const h of hasNot) expect(body).not.toContain(h)
  })
})
