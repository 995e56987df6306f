import { describe, expect, it } from 'vitest'
import { parseCommands } from '../../src/commands-core/parse-commands.js'
import {
  extractDsseEnvelopes,
  finalReaction,
  renderAck,
  type AckJob,
  type AckStatus,
  type DsseEnvelope,
  type ProvenanceSummary,
} from '../../src/daemon/render.js'

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
const provenance: ProvenanceSummary = {
  requester: 'wendy',
  commentUrl: 'http://gitea/o/r/issues/1#issuecomment-77',
  deliveryId: 'd-1',
  house: 'bezalel',
  mode: 'SOVEREIGN',
  tool: 'git_status',
  argsDigest: 'sha256:aa',
  workerHost: 'w1',
  startedAt: '2026-01-01T00:00:01Z',
  finishedAt: '2026-01-01T00:00:02Z',
  attempts: 1,
  outputDigest: 'sha256:bb',
  evidence: ['git-rev-parse: HEAD is abc'],
  approvals: [{ by: 'timmy', at: '2026-01-01T00:00:00Z' }],
}
const final = (state: AckStatus['state'], output = 'On branch main', reason?: string): AckStatus =>
  ({ state, reason, output, provenance, envelope }) as AckStatus

describe('renderAck', () => {
  const table: { status: AckStatus; has: string[]; hasNot?: string[] }[] = [
    { status: { state: 'queued' }, has: ['queued', 'house-bezalel', '/status j0123456789ab', '**bezalel**'] },
    {
      status: { state: 'awaiting_approval', approvers: ['timmy'], expiresAt: '2026-01-02T00:00:00Z' },
      has: ['\n```\n/approve j0123456789ab\n```\n', '@timmy', '2026-01-02T00:00:00Z', '/deny j0123456789ab'],
    },
    {
      status: { state: 'running', startedAt: '2026-01-01T00:00:01Z', attempt: 2 },
      has: ['Running since 2026-01-01T00:00:01Z', 'attempt 2'],
    },
    {
      status: final('success'),
      has: ['✅', '<details>', 'On branch main', 'asked by @wendy', 'approvals: @timmy'],
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
    const body = renderAck(job, final('success', output), { outputCap: 50 })
    expect(body).toContain(`truncated: first 50 of ${output.length} characters`)
    expect(body).toContain('Output truncated after 50 characters')
    expect(body).not.toContain('x'.repeat(51))
    expect(body).toContain('````text')
    // Nothing in a rendered result is ever a command (the bot also ignores its own comments).
    expect(parseCommands(body)).toEqual([])
  })

  it('embeds the DSSE envelope so it can be extracted again, also when pasted quoted or with CRLF', () => {
    const body = renderAck(job, final('success'))
    expect(extractDsseEnvelopes(body)).toEqual([envelope])
    expect(extractDsseEnvelopes(body.replace(/\n/g, '\r\n'))).toEqual([envelope])
    expect(
      extractDsseEnvelopes(
        body
          .split('\n')
          .map((l) => `> ${l}`)
          .join('\n'),
      ),
    ).toEqual([envelope])
  })

  it('extracts nothing from broken or missing envelopes', () => {
    expect(extractDsseEnvelopes('no envelope here')).toEqual([])
    expect(extractDsseEnvelopes('<!-- uni-wizard:dsse -->\n```json\n{not json\n```')).toEqual([])
    expect(extractDsseEnvelopes('<!-- uni-wizard:dsse -->\n```json\n{"payloadType":"x"}\n```')).toEqual([])
    expect(extractDsseEnvelopes('<!-- uni-wizard:dsse -->\n```json\n{"payloadType":"x"')).toEqual([])
  })

  it('picks the final reaction', () => {
    expect(finalReaction('success')).toBe('rocket')
    for (const o of ['failure', 'unverified', 'denied', 'cancelled', 'timeout'] as const)
      expect(finalReaction(o)).toBe('confused')
  })
})
