import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { attestApproval, callDigest, Harness, House, Mode, type Approval } from '../../src/harness/index.js'
import type { DsseEnvelope } from '../../src/provenance/index.js'
import { echo, noEvidence, readText, writeText } from './test-tools.js'

const tools = [echo, noEvidence, readText, writeText]

/** The envelope with fields of its payload changed and the router's signature kept. */
function tamper(envelope: DsseEnvelope, fields: Record<string, unknown>): DsseEnvelope {
  const payload = { ...JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')), ...fields }
  return { ...envelope, payload: Buffer.from(JSON.stringify(payload)).toString('base64') }
}
const tmp = () => mkdtempSync(join(tmpdir(), 'uw-policy-'))

function timmy(extra: { allowSelfApproval?: boolean } = {}) {
  const dir = tmp()
  return new Harness({
    house: House.TIMMY,
    tools,
    keyDir: join(dir, 'keys'),
    auditPath: join(dir, 'audit.jsonl'),
    config: { houses: { timmy: { sovereigns: ['alice', 'carol'], ...extra } } },
  })
}

describe('approvals (timmy, SOVEREIGN)', () => {
  const args = { text: 'hi' }
  const cases: {
    name: string
    approval: (h: Harness) => unknown
    requestedBy?: string
    self?: boolean
    status: string
    rule?: string
  }[] = [
    {
      name: 'a valid approval by another sovereign',
      approval: (h) => h.approve('echo', args, { approver: 'alice' }),
      status: 'success',
    },
    { name: 'no approval', approval: () => undefined, status: 'denied', rule: 'approval-required' },
    {
      name: 'a hand-made approval object',
      approval: () => ({
        approver: 'alice',
        digest: callDigest('echo', args),
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
        keyid: 'x',
        signature: 'AAAA',
      }),
      status: 'denied',
      // An object in the old approval format: refused as legacy before its signature is even
      // looked at (keys.acceptLegacyApprovals is off by default; approval-attestation.test.ts
      // covers it turned on).
      rule: 'approval-legacy',
    },
    {
      name: 'a real approval with the approver edited',
      approval: (h) => tamper(h.approve('echo', args, { approver: 'mallory' }), { approver: 'alice' }),
      status: 'denied',
      rule: 'approval-forged',
    },
    {
      name: 'a real approval with the expiry pushed out',
      approval: (h) =>
        tamper(h.approve('echo', args, { approver: 'alice', ttlMs: -1000 }), {
          expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
        }),
      status: 'denied',
      rule: 'approval-forged',
    },
    {
      name: 'an approval signed with some other ed25519 key',
      approval: (h) => {
        h.keys.router() // the harness trusts its own router key, and only it
        const { privateKey } = generateKeyPairSync('ed25519')
        return attestApproval(
          { privateKey },
          { approver: 'alice', house: 'timmy', digest: callDigest('echo', args) },
        )
      },
      status: 'denied',
      rule: 'approval-forged',
    },
    {
      name: 'an approver who is not a sovereign',
      approval: (h) => h.approve('echo', args, { approver: 'mallory' }),
      status: 'denied',
      rule: 'approver-not-sovereign',
    },
    {
      name: 'a self-approval',
      approval: (h) => h.approve('echo', args, { approver: 'bob' }),
      requestedBy: 'bob',
      status: 'denied',
      rule: 'approver-not-sovereign',
    },
    {
      name: 'a sovereign approving their own request',
      approval: (h) => h.approve('echo', args, { approver: 'alice' }),
      requestedBy: 'alice',
      status: 'denied',
      rule: 'self-approval',
    },
    {
      name: 'a sovereign whose login is written in another case (Gitea logins ignore case)',
      approval: (h) => h.approve('echo', args, { approver: 'Alice' }),
      status: 'success',
    },
    {
      name: 'a sovereign approving their own request under another case',
      approval: (h) => h.approve('echo', args, { approver: 'ALICE' }),
      requestedBy: 'alice',
      status: 'denied',
      rule: 'self-approval',
    },
    {
      name: 'a self-approval when allowSelfApproval is set',
      approval: (h) => h.approve('echo', args, { approver: 'alice' }),
      requestedBy: 'alice',
      self: true,
      status: 'success',
    },
    {
      name: 'an approval for other args',
      approval: (h) => h.approve('echo', { text: 'other' }, { approver: 'alice' }),
      status: 'denied',
      rule: 'approval-digest',
    },
    {
      name: 'an approval for another tool',
      approval: (h) => h.approve('no_evidence', args, { approver: 'alice' }),
      status: 'denied',
      rule: 'approval-digest',
    },
    {
      name: 'an expired approval',
      approval: (h) => h.approve('echo', args, { approver: 'alice', ttlMs: -1 }),
      status: 'denied',
      rule: 'approval-expired',
    },
  ]
  it.each(cases)('$name -> $status $rule', async (c) => {
    const h = timmy({ allowSelfApproval: c.self ?? false })
    const r = await h.execute('echo', args, {
      requestedBy: c.requestedBy ?? 'bob',
      approval: c.approval(h) as Approval,
    })
    expect(r.status).toBe(c.status)
    expect(r.error?.rule).toBe(c.rule)
    if (c.status === 'denied') {
      expect(r.attempts).toBe(0)
      expect(r.error?.fix).toBeTruthy()
      expect(r.output).toBe('')
    } else {
      expect(r.output).toBe('hi')
      expect(r.provenance.statement.predicate.approvals).toEqual([
        expect.objectContaining({ approver: expect.stringMatching(/^alice$/i) }),
      ])
    }
    await h.close()
  })

  it('says how to configure sovereigns when none are', async () => {
    const h = new Harness({
      house: House.TIMMY,
      tools,
      keyDir: join(tmp(), 'k'),
      auditPath: join(tmp(), 'a.jsonl'),
    })
    const r = await h.execute('echo', {}, { requestedBy: 'bob' })
    expect(r.status).toBe('denied')
    expect(r.error?.fix).toContain('houses.timmy.sovereigns')
    await h.close()
  })

  it('approvalRequired: writes gates writes only', async () => {
    const dir = tmp()
    const h = new Harness({
      house: House.BEZALEL,
      mode: Mode.SIMPLE,
      tools,
      keyDir: join(dir, 'k'),
      config: { houses: { bezalel: { approvalRequired: 'writes', sovereigns: ['alice'] } } },
    })
    expect((await h.execute('echo', {}, { requestedBy: 'bob' })).status).toBe('success')
    const denied = await h.execute('no_evidence', {}, { requestedBy: 'bob' })
    expect(denied.error?.rule).toBe('approval-required')
    const approval = h.approve('no_evidence', {}, { approver: 'alice' })
    expect((await h.execute('no_evidence', {}, { requestedBy: 'bob', approval })).status).toBe('unverified')
  })
})

describe('house rules', () => {
  it('refuses a tool outside the house globs, naming the rule and the fix', async () => {
    const h = new Harness({
      house: House.EZRA,
      mode: Mode.SIMPLE,
      tools,
      config: { houses: { ezra: { tools: ['read_*', 'echo', '!echo'] } } },
    })
    const r = await h.execute('echo', {}, { requestedBy: 'bob' })
    expect(r.status).toBe('denied')
    expect(r.error?.rule).toBe('tool-not-allowed')
    expect(r.error?.fix).toContain('houses.ezra.tools')
  })

  it('allegro never runs write tools', async () => {
    const h = new Harness({ house: House.ALLEGRO, tools })
    expect((await h.execute('echo', { text: 'x' }, { requestedBy: 'bob' })).status).toBe('success')
    const r = await h.execute('no_evidence', {}, { requestedBy: 'bob' })
    expect([r.status, r.error?.rule]).toEqual(['denied', 'read-only-house'])
  })

  it('bad args fail with the zod message and do not run', async () => {
    const h = new Harness({ house: House.ALLEGRO, tools })
    const r = await h.execute('echo', { text: 42 }, { requestedBy: 'bob' })
    expect(r.status).toBe('failure')
    expect(r.error?.rule).toBe('bad-args')
    expect(r.error?.reason).toMatch(/text/)
    expect(r.attempts).toBe(0)
  })

  it('an unknown tool fails with a suggestion', async () => {
    const h = new Harness({ house: House.ALLEGRO, tools })
    const r = await h.execute('ecoh', {}, { requestedBy: 'bob' })
    expect(r.status).toBe('failure')
    expect(r.error?.reason).toContain('did you mean echo?')
  })

  it('an unknown house is a programming error', () => {
    expect(() => new Harness({ house: 'nobody', tools })).toThrow(/unknown house/)
  })
})

describe('read-before-write (ezra)', () => {
  function ezra() {
    return new Harness({ house: House.EZRA, mode: Mode.SIMPLE, tools })
  }
  it('denies a write with no earlier read', async () => {
    const path = join(tmp(), 'f.txt')
    writeFileSync(path, 'v1')
    const r = await ezra().execute('write_text', { path, content: 'v2' }, { requestedBy: 'bob' })
    expect([r.status, r.error?.rule]).toEqual(['denied', 'read-before-write'])
    expect(r.error?.reason).toContain('has not read')
  })

  it('allows a write when the target is unchanged since the read, and a second write after its own', async () => {
    const path = join(tmp(), 'f.txt')
    writeFileSync(path, 'v1')
    const h = ezra()
    expect((await h.execute('read_text', { path }, { requestedBy: 'bob' })).status).toBe('success')
    expect((await h.execute('write_text', { path, content: 'v2' }, { requestedBy: 'bob' })).status).toBe(
      'success',
    )
    expect((await h.execute('write_text', { path, content: 'v3' }, { requestedBy: 'bob' })).status).toBe(
      'success',
    )
  })

  it('denies a write when the target changed since the read, with the read time', async () => {
    const path = join(tmp(), 'f.txt')
    writeFileSync(path, 'v1')
    const h = ezra()
    await h.execute('read_text', { path }, { requestedBy: 'bob' })
    writeFileSync(path, 'someone else')
    const r = await h.execute('write_text', { path, content: 'v2' }, { requestedBy: 'bob' })
    expect(r.status).toBe('denied')
    expect(r.error?.reason).toMatch(/changed since read at \d{4}-\d\d-\d\dT/)
  })

  it('a read by another house does not count', async () => {
    const path = join(tmp(), 'f.txt')
    writeFileSync(path, 'v1')
    await new Harness({ house: House.BEZALEL, tools }).execute('read_text', { path }, { requestedBy: 'bob' })
    const r = await ezra().execute('write_text', { path, content: 'v2' }, { requestedBy: 'bob' })
    expect(r.status).toBe('denied')
  })
})

describe('proof-required (bezalel)', () => {
  it('a result without evidence is unverified; with evidence it is success', async () => {
    const h = new Harness({ house: House.BEZALEL, mode: Mode.SIMPLE, tools })
    const bare = await h.execute('no_evidence', {}, { requestedBy: 'bob' })
    expect([bare.status, bare.error?.rule]).toEqual(['unverified', 'proof-required'])
    const path = join(tmp(), 'f.txt')
    const proven = await h.execute('write_text', { path, content: 'x' }, { requestedBy: 'bob' })
    expect(proven.status).toBe('success')
    expect(proven.evidence?.kind).toBe('sha256-reread')
    expect(proven.provenance.statement.predicate.evidence).toHaveLength(1)
  })

  it('the same tool without evidence is success in a house without proofRequired', async () => {
    const h = new Harness({
      house: House.ALLEGRO,
      tools,
      config: { houses: { allegro: { readOnly: false } } },
    })
    expect((await h.execute('no_evidence', {}, { requestedBy: 'bob' })).status).toBe('success')
  })
})
