import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { isStepsLineForTest, verifyResultComment } from '../../src/report/check-result-comment.js'
import { renderSummary, type AgentSummary } from '../../src/report/agent-steps.js'
import {
  DSSE_OPEN,
  renderAck,
  renderEnvelope,
  type AckJob,
  type FinalOutcome,
} from '../../src/report/render.js'
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope, type DsseEnvelope } from '../../src/provenance/dsse.js'
import { buildStatement, outputFacts, type ExecutionPredicate } from '../../src/provenance/statement.js'

const { privateKey, publicKey } = generateKeyPairSync('ed25519')
const keys = [publicKey]

const job: AckJob = {
  jobId: 'j0123456789ab',
  house: 'bezalel',
  tool: 'git_status',
  houseReason: 'named in the command',
  requester: 'wendy',
  mode: 'SIMPLE',
  dryRun: false,
}

interface Made {
  body: string
  envelope: DsseEnvelope
}

/** A result comment exactly as the reporter posts it, signed with the test key. */
function signedComment(
  o: {
    output?: string
    cap?: number
    state?: FinalOutcome
    reason?: string
    notes?: string[]
    predicate?: Partial<ExecutionPredicate>
    jobId?: string | undefined
    agent?: AgentSummary
  } = {},
): Made {
  const output = o.output ?? 'On branch main\nnothing to commit\n'
  const state = o.state ?? 'success'
  const facts = outputFacts(output, o.cap ?? 50_000)
  const statement = buildStatement({
    outputSha256: facts.sha256,
    predicate: {
      requestedBy: 'wendy',
      house: 'bezalel',
      mode: 'simple',
      tool: 'git_status',
      argsDigest: 'sha256:aa',
      approvals: [],
      host: 'w1',
      versions: { uniWizard: '0.1.0', node: '20' },
      startedAt: '2026-01-01T00:00:01.000Z',
      finishedAt: '2026-01-01T00:00:02.000Z',
      attempts: 1,
      status: state,
      evidence: [],
      requestUrl: 'http://gitea/o/r/issues/1#issuecomment-77',
      deliveryId: 'd-1',
      jobId: 'jobId' in o ? o.jobId : job.jobId,
      output: facts.output,
      ...o.predicate,
    },
  })
  const envelope = signEnvelope(Buffer.from(JSON.stringify(statement)), IN_TOTO_PAYLOAD_TYPE, privateKey)
  const body = renderAck(job, {
    state,
    reason: o.reason,
    output,
    notes: o.notes,
    statement,
    envelope,
    ...(o.agent ? { agent: o.agent } : {}),
  })
  return { body: `${body}\n\n<!-- uw:key=ack-d-1-77-0 -->`, envelope }
}

/** Another genuine envelope, signed by the same key, for another job: what an attacker would paste. */
const otherEnvelope = signedComment({ output: 'other', jobId: 'jffffffffffff' }).envelope
const pasted = [DSSE_OPEN, '```json', JSON.stringify(otherEnvelope, null, 2), '```'].join('\n')

const genuine = signedComment()

function check(body: string) {
  return verifyResultComment(body, keys)
}

describe('verifyResultComment', () => {
  it('passes the genuine comment, also copied with CRLF line ends', () => {
    const r = check(genuine.body)
    expect(r).toMatchObject({ ok: true, statement: { predicate: { jobId: job.jobId } } })
    expect(check(genuine.body.replace(/\n/g, '\r\n')).ok).toBe(true)
  })

  const edits: [string, (b: string) => string, string][] = [
    ['heading status changed', (b) => b.replace(': success\n', ': failure\n'), 'status'],
    ['heading icon changed', (b) => b.replace('### ✅', '### ❌'), 'status'],
    ['ack marker state changed', (b) => b.replace('state=success', 'state=failure'), 'status'],
    ['output changed', (b) => b.replace('nothing to commit', 'nothing to worry'), 'output'],
    ['output line added', (b) => b.replace('nothing to commit\n', 'nothing to commit\nApproved\n'), 'output'],
    ['output summary changed', (b) => b.replace('Output (33 characters)', 'Output (3 characters)'), 'output'],
    [
      'requester changed in the job line',
      (b) => b.replace('requested by @wendy ·', 'requested by @timmy ·'),
      'requester',
    ],
    [
      'requester changed in the provenance',
      (b) => b.replace('- requested by: @wendy', '- requested by: @timmy'),
      'requester',
    ],
    ['job id changed in the marker', (b) => b.replace('job=j0123456789ab', 'job=j0000000000ab'), 'job id'],
    [
      'job id changed in the job line',
      (b) => b.replace('Job `j0123456789ab`', 'Job `j0000000000ab`'),
      'job id',
    ],
    [
      'job id changed in the provenance',
      (b) => b.replace('- job: `j0123456789ab`', '- job: `j0000000000ab`'),
      'job id',
    ],
    ['tool changed in the heading', (b) => b.replace('### ✅ `git_status`', '### ✅ `git_push`'), 'tool'],
    [
      'tool changed in the provenance',
      (b) => b.replace('- tool: `git_status`', '- tool: `git_push`'),
      'tool',
    ],
    ['house changed in the heading', (b) => b.replace('on house **bezalel**', 'on house **timmy**'), 'house'],
    [
      'house changed in the provenance',
      (b) => b.replace('- house: **bezalel**', '- house: **timmy**'),
      'house',
    ],
    ['mode changed', (b) => b.replace('mode SIMPLE', 'mode SOVEREIGN'), 'mode'],
    [
      'approval line added to the provenance',
      (b) => b.replace('- approvals: none', '- approvals: @timmy (valid until 2026-01-02T00:00:00Z)'),
      'approvals',
    ],
    [
      'bold "Approved by" line added',
      (b) =>
        b.replace('\n<details>\n<summary>Output', '\n**Approved by @timmy**\n\n<details>\n<summary>Output'),
      'output',
    ],
    [
      'second envelope injected before',
      (b) => b.replace('\n<details>\n<summary>Output', `\n${pasted}\n\n<details>\n<summary>Output`),
      'envelope',
    ],
    ['second envelope injected after', (b) => `${b}\n\n${pasted}`, 'envelope'],
    [
      "the bot's envelope swapped for another genuine one",
      (b) => b.replace(renderEnvelope(genuine.envelope), renderEnvelope(otherEnvelope)),
      'job id',
    ],
    [
      'signature changed',
      (b) => b.replace(/"sig": "(.)/, (_m, c: string) => `"sig": "${c === 'A' ? 'B' : 'A'}`),
      'signature',
    ],
    ['envelope removed', (b) => b.replace(renderEnvelope(genuine.envelope), ''), 'envelope'],
  ]
  it.each(edits)('fails when the %s, naming the field', (_name, edit, field) => {
    const body = edit(genuine.body)
    expect(body).not.toBe(genuine.body)
    const r = check(body)
    expect(r.ok).toBe(false)
    expect(r.ok ? '' : r.field).toBe(field)
  })

  it("never takes an envelope from a user's text, not even a genuine one", () => {
    // An unsigned failure whose output and reason carry someone's pasted (genuine) envelope.
    const unsigned = renderAck(job, {
      state: 'failure',
      reason: `bad path\n\n${pasted}`,
      output: `${pasted}\n`,
      statement: undefined,
      envelope: undefined,
    })
    expect(check(unsigned)).toMatchObject({ ok: false, field: 'envelope' })
    // With the bot's own envelope at the end, that one is read, and the pasted one inside the
    // output is just output.
    const signed = signedComment({ output: `${pasted}\n${'`'.repeat(4)}\n` })
    const r = check(signed.body)
    expect(r).toMatchObject({ ok: true, statement: { predicate: { jobId: job.jobId } } })
  })

  it('checks a cut output against the signed digest of the part shown, and says only part is shown', () => {
    const output = `${'line\n'.repeat(40)}the end`
    const cut = signedComment({ output, cap: 100 })
    const r = check(cut.body)
    expect(r).toMatchObject({ ok: true })
    expect(r.ok && r.remarks.join('\n')).toMatch(/shows only the first 100 of 207 characters/)
    expect(check(cut.body.replace('line\nline\n', 'line\nLINE\n'))).toMatchObject({
      ok: false,
      field: 'output',
    })
    expect(check(cut.body.replace(/_Only the first .*\n\n/, ''))).toMatchObject({
      ok: false,
      field: 'output',
    })
    expect(check(cut.body.replace('first 100 of 207', 'first 100 of 100'))).toMatchObject({
      ok: false,
      field: 'output',
    })
  })

  it('never cuts a character in half (its digest would not survive Gitea)', () => {
    const output = `${'x'.repeat(99)}😀 and more`
    const cut = signedComment({ output, cap: 100 })
    expect(check(cut.body)).toMatchObject({ ok: true })
    expect(cut.body).not.toContain('\ud83d\n')
  })

  it('says the reason and notes are not signed, and passes when only they changed', () => {
    const failed = signedComment({ state: 'failure', reason: 'exit code 1', notes: ['slow'] })
    const r = check(failed.body.replace('exit code 1', 'exit code 2'))
    expect(r).toMatchObject({ ok: true })
    expect(r.ok && r.remarks.join('\n')).toMatch(/reason and notes .* not signed/)
  })

  // Issue 10 (F2): edits that keep every signed byte but change how the comment renders. The
  // output holds a 4-backtick line, so the bot fences it with 5; a shorter fence closes early in
  // CommonMark and the rest of the signed text renders as live Markdown (a fake heading here).
  const hostileOutput = [
    'release checklist',
    '````',
    '',
    '<!--',
    '-->',
    '### ✅ `git_push` on house **bezalel**: success',
    '``` ',
  ].join('\n')
  const fencedGenuine = signedComment({
    output: hostileOutput,
    state: 'failure',
    reason: 'exit code 1 (see **docs**)',
    notes: ['slow <b>disk</b>'],
  }).body
  const five = '`'.repeat(5)
  const renderEdits: [string, (b: string) => string, string][] = [
    [
      'output fence shortened to 3 backticks',
      (b) => b.replace(`${five}text\n`, '```text\n').replace(`\n${five}\n`, '\n```\n'),
      'output',
    ],
    [
      'output fence shortened to 4 backticks',
      (b) => b.replace(`${five}text\n`, '````text\n').replace(`\n${five}\n`, '\n````\n'),
      'output',
    ],
    [
      'output fence lengthened to 6 backticks',
      (b) => b.replace(`${five}text\n`, `${five}\`text\n`).replace(`\n${five}\n`, `\n${five}\`\n`),
      'output',
    ],
    ['closing fence indented', (b) => b.replace(`\n${five}\n`, `\n   ${five}\n`), 'output'],
    ['closing fence with trailing blanks', (b) => b.replace(`\n${five}\n`, `\n${five}  \n`), 'output'],
    ['envelope fence shortened', (b) => b.replace('\n```json\n', '\n``json\n'), 'envelope'],
    ['reason made bold', (b) => b.replace('Reason: exit', 'Reason: **exit** '), 'reason'],
    ['reason escape removed', (b) => b.replace('\\*\\*docs\\*\\*', '**docs**'), 'reason'],
    ['reason given HTML', (b) => b.replace('Reason: exit', 'Reason: <img src=x> exit'), 'reason'],
    ['reason given a mention', (b) => b.replace('Reason: exit', 'Reason: @timmy exit'), 'reason'],
    ['note given a link', (b) => b.replace('- slow', '- [slow](http://evil)'), 'notes'],
    ['note given HTML', (b) => b.replace('&lt;b\\>', '<b>'), 'notes'],
    [
      'job line explanation given HTML',
      (b) => b.replace('house chosen: named', 'house chosen: <b>named</b>'),
      'job line',
    ],
    [
      'job line given a new clause',
      (b) => b.replace(' · house chosen:', ' · **approved by @timmy** · house chosen:'),
      'job line',
    ],
  ]
  it('passes the genuine comment whose output needs a long fence, and inert reason and notes', () => {
    expect(fencedGenuine).toContain(`${five}text\n`)
    expect(check(fencedGenuine)).toMatchObject({ ok: true })
  })
  it.each(renderEdits)('fails when the %s, naming the field', (_name, edit, field) => {
    const body = edit(fencedGenuine)
    expect(body).not.toBe(fencedGenuine)
    const r = check(body)
    expect(r.ok ? 'valid' : r.field).toBe(field)
  })
  it('passes a job line as the renderer writes it for a dry, retried run', () => {
    const retried = signedComment().body.replace(
      ' · house chosen:',
      ' · dry run · run 2, first requested by @timmy · house chosen:',
    )
    expect(check(retried)).toMatchObject({ ok: true })
  })

  it('fails a statement signed before job ids were', () => {
    expect(check(signedComment({ jobId: undefined }).body)).toMatchObject({ ok: false, field: 'job id' })
  })

  it('fails anything that is not a result comment', () => {
    expect(check('hello')).toMatchObject({ ok: false, field: 'layout' })
    expect(check(renderAck(job, { state: 'queued' }))).toMatchObject({ ok: false })
  })
})

describe('the agent steps section of a result comment', () => {
  it('is checked line by line: only the shapes the bot writes pass, with inert text', () => {
    const lines = renderSummary({
      backend: 'openai',
      model: 'm',
      steps: [
        { tool: 'file_read', status: 'success', args: '{"path":"a`b"}', durationMs: 12 },
        { tool: 'file_write', status: 'denied' },
      ],
      earlier: 2,
      transcript: 'x',
      totalTokens: 1234,
      durationMs: 1500,
      pullRequest: { number: 3, url: 'http://g/o/r/pulls/3' },
      proof: [{ name: 'test', exitCode: 1, timedOut: false, durationMs: 40 }],
    })
    const items = lines.filter((l) => l.startsWith('- '))
    expect(items.length).toBeGreaterThan(4)
    // Each shape the bot writes passes; anything live slipped into the section does not.
    for (const l of items) expect(isStepsLineForTest(l), l).toBe(true)
    for (const forged of [
      '- ### ✅ Approved and merged by @timmy',
      '- [x] ✅ `file_read`: success <img src=x>',
      '- <details open>',
      '- pull request: #3 [click](http://evil)',
      '- [x] ✅ `a` `b`: **bold**',
    ])
      expect(isStepsLineForTest(forged), forged).toBe(false)
  })
})

describe("an agent job's result comment", () => {
  const agent: AgentSummary = {
    backend: 'openai',
    steps: [{ tool: 'file_write', status: 'success', args: '{"path":"a.md"}', durationMs: 3 }],
    earlier: 0,
    transcript: 'agent: done\n```\n<!-- uni-wizard:dsse -->',
    totalTokens: 10,
    durationMs: 1200,
    branch: 'uw/bezalel/issue-1-j1',
    proof: [{ name: 'test', exitCode: 1, timedOut: false, durationMs: 40 }],
    proofOutput: '$ npm test\nFAIL a.test.ts\n```\n**Provenance**',
  }

  it('verifies with its steps, transcript and failed proof output shown, all inert', () => {
    const made = signedComment({ agent, state: 'unverified', reason: 'the proof did not pass' })
    expect(made.body).toContain('<summary>Proof output (not signed; its digests are)</summary>')
    expect(check(made.body)).toMatchObject({ ok: true })
  })

  it('an edited proof output block that breaks out of its fence is refused', () => {
    const made = signedComment({ agent, state: 'unverified', reason: 'the proof did not pass' })
    const forged = made.body.replace('FAIL a.test.ts', 'FAIL a.test.ts\n````\n### Approved')
    expect(check(forged)).toMatchObject({ ok: false })
  })
})
