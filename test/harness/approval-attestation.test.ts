import { generateKeyPairSync } from 'node:crypto'
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  attestApproval,
  callDigest,
  createLegacyApproval,
  Harness,
  readAttestation,
  type Approval,
} from '../../src/harness/index.js'
import { KeyStore, type DsseEnvelope } from '../../src/provenance/index.js'
import type { HarnessConfigInput } from '../../src/houses/harness-config.js'
import { trustedRouterKeys } from '../../src/provenance/router-keys.js'
import { echo } from './test-tools.js'

const dirs: string[] = []
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'uw-attest-'))
  dirs.push(d)
  return d
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

const args = { text: 'hi' }
const digest = callDigest('echo', args)
const JOB = { id: 'j1', runId: 'j1' }

/** A router machine and a worker machine, each with its own key directory. */
function machines(opts: { legacy?: boolean; copyRouterPub?: boolean; self?: boolean } = {}) {
  const routerDir = join(tmp(), 'keys')
  const workerDir = join(tmp(), 'keys')
  const router = new KeyStore(routerDir)
  const routerKey = router.router()
  mkdirSync(workerDir, { recursive: true })
  if (opts.copyRouterPub !== false)
    copyFileSync(join(routerDir, '_router.pub'), join(workerDir, '_router.pub'))
  const worker = new Harness({
    house: 'bezalel',
    mode: 'sovereign',
    tools: [echo],
    keyDir: workerDir,
    auditPath: join(tmp(), 'audit.jsonl'),
    config: {
      houses: {
        // The worker's own policy: only alice and carol are bezalel's sovereigns.
        bezalel: { sovereigns: ['alice', 'carol'], allowSelfApproval: opts.self ?? false },
      },
      keys: { acceptLegacyApprovals: opts.legacy ?? false },
    },
  })
  const attest = (over: Partial<Parameters<typeof attestApproval>[1]> = {}) =>
    attestApproval(routerKey, {
      approver: 'alice',
      house: 'bezalel',
      digest,
      jobId: JOB.id,
      runId: JOB.runId,
      comment: { id: 42, url: 'http://gitea/o/r/issues/1#issuecomment-42' },
      ...over,
    })
  return { router, routerKey, routerDir, workerDir, worker, attest }
}

/** The envelope with fields of its payload changed and the router's signature kept. */
function tamper(envelope: DsseEnvelope, fields: Record<string, unknown>): DsseEnvelope {
  const payload = { ...JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')), ...fields }
  return { ...envelope, payload: Buffer.from(JSON.stringify(payload)).toString('base64') }
}

describe('approval attestations: a worker accepts only what a trusted router attested for its own job', () => {
  type M = ReturnType<typeof machines>
  const cases: {
    name: string
    approval: (m: M) => unknown
    requestedBy?: string
    job?: { id: string; runId?: string } | null
    setup?: Parameters<typeof machines>[0]
    rule?: string
  }[] = [
    { name: 'a router attestation for this job, house and call', approval: (m) => m.attest() },
    {
      name: 'an approval signed with the timmy house key, not by the router (legacy off)',
      approval: (m) => {
        const timmy = new KeyStore(m.routerDir).get('timmy')
        return createLegacyApproval(timmy, { approver: 'alice', digest })
      },
      rule: 'approval-legacy',
    },
    {
      name: 'an attestation for another call digest',
      approval: (m) => m.attest({ digest: callDigest('echo', { text: 'rm -rf' }) }),
      rule: 'approval-digest',
    },
    {
      name: 'an attestation for another job',
      approval: (m) => m.attest({ jobId: 'j2', runId: 'j2' }),
      rule: 'approval-job',
    },
    {
      name: 'an attestation for an earlier run of this job',
      approval: (m) => m.attest({ runId: 'j1' }),
      job: { id: 'j1', runId: 'j1.r2' },
      rule: 'approval-job',
    },
    {
      name: 'an attestation made outside any job, used for a job',
      approval: (m) => m.attest({ jobId: undefined, runId: undefined }),
      rule: 'approval-job',
    },
    {
      name: 'an attestation for another house',
      approval: (m) => m.attest({ house: 'timmy' }),
      rule: 'approval-house',
    },
    {
      name: "an approver the router calls a sovereign but the worker's policy does not",
      approval: (m) => m.attest({ approver: 'mallory' }),
      rule: 'approver-not-sovereign',
    },
    {
      name: 'a sovereign approving their own request',
      approval: (m) => m.attest({ approver: 'alice' }),
      requestedBy: 'Alice',
      rule: 'self-approval',
    },
    {
      name: 'a self-approval where the house allows it',
      approval: (m) => m.attest({ approver: 'alice' }),
      requestedBy: 'alice',
      setup: { self: true },
    },
    { name: 'an expired attestation', approval: (m) => m.attest({ ttlMs: -1 }), rule: 'approval-expired' },
    {
      name: 'an attestation with the approver edited',
      approval: (m) => tamper(m.attest({ approver: 'mallory' }), { approver: 'alice' }),
      rule: 'approval-forged',
    },
    {
      name: 'an attestation with the expiry pushed out',
      approval: (m) => tamper(m.attest({ ttlMs: -1 }), { expiresAt: '2999-01-01T00:00:00.000Z' }),
      rule: 'approval-forged',
    },
    {
      name: 'an attestation with the job edited',
      approval: (m) => tamper(m.attest({ jobId: 'j9', runId: 'j9' }), { jobId: 'j1', runId: 'j1' }),
      rule: 'approval-forged',
    },
    {
      name: 'an attestation with an extra field',
      approval: (m) => ({ ...m.attest(), approver: 'alice' }),
      rule: 'approval-forged',
    },
    {
      name: 'an attestation signed by a router key the worker does not trust',
      approval: () => {
        const { privateKey } = generateKeyPairSync('ed25519')
        return attestApproval({ privateKey }, { approver: 'alice', house: 'bezalel', digest, ...jobOf(JOB) })
      },
      rule: 'approval-forged',
    },
    {
      name: "an attestation signed with the house's own key (a worker cannot approve for itself)",
      approval: (m) => {
        const own = new KeyStore(m.workerDir).get('bezalel')
        return attestApproval(own, { approver: 'alice', house: 'bezalel', digest, ...jobOf(JOB) })
      },
      rule: 'approval-forged',
    },
    {
      name: 'a valid attestation on a worker that has no router key',
      approval: (m) => m.attest(),
      setup: { copyRouterPub: false },
      rule: 'approval-untrusted',
    },
    {
      name: 'a legacy approval signed by timmy when legacy approvals are accepted',
      approval: (m) => {
        const timmy = new KeyStore(m.workerDir).get('timmy') // the worker has timmy.pub
        return createLegacyApproval(timmy, { approver: 'alice', digest })
      },
      setup: { legacy: true },
    },
    {
      name: 'a legacy approval signed by another key when legacy approvals are accepted',
      approval: (m) => {
        new KeyStore(m.workerDir).get('timmy')
        const { privateKey } = generateKeyPairSync('ed25519')
        return createLegacyApproval({ privateKey, keyid: 'x' }, { approver: 'alice', digest })
      },
      setup: { legacy: true },
      rule: 'approval-forged',
    },
    {
      name: 'a legacy approval by a non-sovereign when legacy approvals are accepted',
      approval: (m) =>
        createLegacyApproval(new KeyStore(m.workerDir).get('timmy'), { approver: 'mallory', digest }),
      setup: { legacy: true },
      rule: 'approver-not-sovereign',
    },
  ]
  it.each(cases)('$name -> $rule', async (c) => {
    const m = machines(c.setup)
    const r = await m.worker.execute('echo', args, {
      requestedBy: c.requestedBy ?? 'bob',
      approval: c.approval(m) as Approval,
      job: c.job === null ? undefined : (c.job ?? JOB),
    })
    expect(r.error?.rule).toBe(c.rule)
    if (c.rule) {
      expect(r.status).toBe('denied')
      expect(r.attempts).toBe(0)
      expect(r.error?.fix).toBeTruthy()
    } else {
      expect(r.status).toBe('success')
      expect(r.output).toBe('hi')
    }
    await m.worker.close()
  })

  it('records the attestation in the house-signed statement, and it verifies with the router key', async () => {
    const m = machines()
    const approval = m.attest()
    const r = await m.worker.execute('echo', args, { requestedBy: 'bob', approval, job: JOB })
    expect(r.status).toBe('success')
    const [recorded] = r.provenance.statement.predicate.approvals
    expect(recorded).toMatchObject({
      kind: 'router-attestation',
      approver: 'alice',
      house: 'bezalel',
      jobId: 'j1',
      runId: 'j1',
      digest,
      keyid: m.routerKey.keyid,
      comment: { id: 42, url: 'http://gitea/o/r/issues/1#issuecomment-42' },
    })
    const reading = readAttestation(recorded!.attestation, [m.routerKey.publicKey])
    expect(reading.valid && reading.attestation.approver).toBe('alice')
    // The statement is signed with the house's key, not the router's.
    expect(r.provenance.envelope?.signatures[0]?.keyid).toBe(new KeyStore(m.workerDir).get('bezalel').keyid)
    await m.worker.close()
  })

  it('a configured router key that is really a house key is not trusted', () => {
    const dir = join(tmp(), 'keys')
    const store = new KeyStore(dir)
    store.get('timmy')
    const pem = join(dir, 'timmy.pub')
    const trust = trustedRouterKeys(store, [pem])
    expect(trust.keys).toHaveLength(0)
    expect(trust.problems.join()).toMatch(/house timmy's key, not a router key/)
    writeFileSync(join(dir, 'junk.pem'), 'not a key')
    expect(trustedRouterKeys(store, [join(dir, 'junk.pem')]).problems.join()).toMatch(
      /not a readable PEM key/,
    )
  })

  it('the router key is never listed or generated as a house key', () => {
    const store = new KeyStore(join(tmp(), 'keys'))
    store.router()
    expect(store.publicKeys()).toEqual([])
    expect(store.privateKeyHouses()).toEqual([])
    expect(() => store.get('_router')).toThrow(/invalid house name/)
  })
})

const HOUR = 3_600_000
const DAY = 24 * HOUR

/**
 * One machine upgraded from timmy-signed approvals: its key directory held timmy's key before the
 * router key appeared (`fresh`: the other way round, an install that never had legacy approvals).
 */
function upgraded(opts: { fresh?: boolean; keys?: HarnessConfigInput['keys'] } = {}) {
  const dir = join(tmp(), 'keys')
  const store = new KeyStore(dir)
  if (!opts.fresh) store.get('timmy')
  store.router() // the upgraded router's first start
  const timmy = store.get('timmy')
  const record = store.routerKeyRecord()!
  const since = Date.parse(record.since)
  const worker = new Harness({
    house: 'bezalel',
    mode: 'sovereign',
    tools: [echo],
    keyDir: dir,
    auditPath: join(tmp(), 'audit.jsonl'),
    config: { houses: { bezalel: { sovereigns: ['alice'] } }, ...(opts.keys ? { keys: opts.keys } : {}) },
  })
  const legacy = (expiresAt: number, approver = 'alice') =>
    createLegacyApproval(timmy, { approver, digest, expiresAt: new Date(expiresAt) })
  return { dir, store, timmy, record, since, worker, legacy }
}

describe('legacy approvals across the upgrade: accepted only when issued before it, no flag needed', () => {
  type U = ReturnType<typeof upgraded>
  const cases: {
    name: string
    setup?: Parameters<typeof upgraded>[0]
    approval: (u: U) => unknown
    rule?: string
    reason?: RegExp
  }[] = [
    {
      name: 'approved an hour before the upgrade (expires 23 h after it)',
      approval: (u) => u.legacy(u.since + 23 * HOUR),
    },
    {
      name: 'expiring exactly at the upgrade plus the grace (the longest TTL the old router gave)',
      approval: (u) => u.legacy(u.since + DAY),
    },
    {
      name: 'expiring a minute after the upgrade plus the grace: issued after the upgrade',
      approval: (u) => u.legacy(u.since + DAY + 60_000),
      rule: 'approval-legacy',
      reason: /not issued before this worker's upgrade/,
    },
    {
      name: 'expiring a year out (a timmy.key holder forging a long-lived approval)',
      approval: (u) => u.legacy(u.since + 365 * DAY),
      rule: 'approval-legacy',
    },
    {
      name: 'a shorter configured grace',
      setup: { keys: { legacyApprovalGraceSeconds: 3600 } },
      approval: (u) => u.legacy(u.since + 2 * HOUR),
      rule: 'approval-legacy',
    },
    {
      name: 'acceptLegacyApprovals: true accepts one past the window (its meaning is unchanged)',
      setup: { keys: { acceptLegacyApprovals: true } },
      approval: (u) => u.legacy(u.since + 365 * DAY),
    },
    {
      name: 'an install whose timmy key came after the router key never had legacy approvals',
      setup: { fresh: true },
      approval: (u) => u.legacy(u.since + HOUR),
      rule: 'approval-legacy',
      reason: /dates no upgrade from that key/,
    },
    {
      name: 'inside the window but signed by another key',
      approval: (u) => {
        const { privateKey } = generateKeyPairSync('ed25519')
        return createLegacyApproval(
          { privateKey, keyid: u.timmy.keyid },
          { approver: 'alice', digest, expiresAt: new Date(u.since + HOUR) },
        )
      },
      rule: 'approval-forged',
    },
    {
      name: 'inside the window with the expiry edited after signing',
      approval: (u) => ({
        ...u.legacy(u.since + 365 * DAY),
        expiresAt: new Date(u.since + HOUR).toISOString(),
      }),
      rule: 'approval-forged',
    },
    {
      name: 'inside the window by a non-sovereign',
      approval: (u) => u.legacy(u.since + HOUR, 'mallory'),
      rule: 'approver-not-sovereign',
    },
  ]
  it.each(cases)('$name -> $rule', async (c) => {
    const u = upgraded(c.setup)
    const r = await u.worker.execute('echo', args, {
      requestedBy: 'bob',
      approval: c.approval(u) as Approval,
      job: JOB,
    })
    expect(r.error?.rule).toBe(c.rule)
    if (c.rule) {
      expect(r.status).toBe('denied')
      expect(r.attempts).toBe(0)
      if (c.reason) expect(r.error?.reason).toMatch(c.reason)
    } else {
      expect(r.status).toBe('success')
      expect(r.provenance.statement.predicate.approvals[0]).toMatchObject({
        kind: 'legacy',
        approver: 'alice',
        keyid: u.timmy.keyid,
      })
    }
    await u.worker.close()
  })

  it('the upgrade date survives restarts and cannot be moved by re-creating the router key', async () => {
    const u = upgraded()
    const onDisk = readFileSync(join(u.dir, '_router.created'), 'utf8')
    const late = u.legacy(u.since + DAY + HOUR)
    expect(
      (await u.worker.execute('echo', args, { requestedBy: 'bob', approval: late, job: JOB })).error?.rule,
    ).toBe('approval-legacy')
    // Someone deletes the router key pair and lets the router make a new one, later.
    rmSync(join(u.dir, '_router.key'))
    rmSync(join(u.dir, '_router.pub'))
    const restarted = new KeyStore(u.dir)
    const before = u.store.router().keyid
    expect(restarted.router().keyid).not.toBe(before)
    expect(restarted.recordRouterKey(new Date(Date.now() + DAY))).toEqual(u.record)
    expect(readFileSync(join(u.dir, '_router.created'), 'utf8')).toBe(onDisk)
    const worker = new Harness({
      house: 'bezalel',
      mode: 'sovereign',
      tools: [echo],
      keyDir: u.dir,
      auditPath: join(tmp(), 'audit.jsonl'),
      config: { houses: { bezalel: { sovereigns: ['alice'] } } },
    })
    const r = await worker.execute('echo', args, { requestedBy: 'bob', approval: late, job: JOB })
    expect(r.error?.rule).toBe('approval-legacy')
    await worker.close()
    await u.worker.close()
  })

  it('a record that does not parse is never replaced, and opens no window', async () => {
    const u = upgraded()
    writeFileSync(join(u.dir, '_router.created'), 'garbage')
    expect(u.store.recordRouterKey()).toBeUndefined()
    expect(new KeyStore(u.dir).router().keyid).toBeTruthy()
    expect(readFileSync(join(u.dir, '_router.created'), 'utf8')).toBe('garbage')
    const r = await u.worker.execute('echo', args, {
      requestedBy: 'bob',
      approval: u.legacy(u.since + HOUR),
      job: JOB,
    })
    expect(r.error?.rule).toBe('approval-legacy')
    await u.worker.close()
  })

  it('a router key made before records existed is dated by its file, never later than now', () => {
    const dir = join(tmp(), 'keys')
    const store = new KeyStore(dir)
    store.get('timmy')
    store.router()
    rmSync(join(dir, '_router.created'))
    const made = new Date(Date.now() - 3 * DAY)
    utimesSync(join(dir, '_router.key'), made, made)
    expect(new KeyStore(dir).router() && new KeyStore(dir).routerKeyRecord()?.since).toBe(made.toISOString())
    const other = new KeyStore(join(tmp(), 'keys'))
    expect(Date.parse(other.recordRouterKey(new Date(Date.now() + DAY))!.since)).toBeLessThanOrEqual(
      Date.now(),
    )
  })

  it("a split install's worker dates the upgrade when it first trusts a router key", async () => {
    // The worker machine had timmy.pub (old workers checked approvals with it); the router is elsewhere.
    const routerDir = join(tmp(), 'keys')
    const workerDir = join(tmp(), 'keys')
    const timmy = new KeyStore(routerDir).get('timmy')
    mkdirSync(workerDir, { recursive: true })
    copyFileSync(join(routerDir, 'timmy.pub'), join(workerDir, 'timmy.pub'))
    const worker = new Harness({
      house: 'bezalel',
      mode: 'sovereign',
      tools: [echo],
      keyDir: workerDir,
      auditPath: join(tmp(), 'audit.jsonl'),
      config: { houses: { bezalel: { sovereigns: ['alice'] } } },
    })
    const approvedBeforeUpgrade = createLegacyApproval(timmy, {
      approver: 'alice',
      digest,
      expiresAt: new Date(Date.now() + 20 * HOUR),
    })
    const run = () =>
      worker.execute('echo', args, { requestedBy: 'bob', approval: approvedBeforeUpgrade, job: JOB })
    // No router key trusted yet: nothing dates the upgrade, so only the flag would accept it.
    expect((await run()).error?.rule).toBe('approval-legacy')
    expect(new KeyStore(workerDir).routerKeyRecord()).toBeUndefined()
    new KeyStore(routerDir).router()
    copyFileSync(join(routerDir, '_router.pub'), join(workerDir, '_router.pub'))
    expect(worker.routerKeys().keys).toHaveLength(1)
    const record = new KeyStore(workerDir).routerKeyRecord()
    expect(record?.houseKeyids).toContain(timmy.keyid)
    expect((await run()).status).toBe('success')
    await worker.close()
  })
})

function jobOf(job: { id: string; runId?: string }): { jobId: string; runId?: string } {
  return { jobId: job.id, runId: job.runId }
}
