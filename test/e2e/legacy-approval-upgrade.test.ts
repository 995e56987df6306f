import { mkdirSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLoop, type RunningLoop } from '../../src/daemon/start-loop.js'
import { StoredResult } from '../../src/jobs/stored-result.js'
import { GiteaJsAdapter } from '../../src/gitea/gitea-js-adapter.js'
import { createLegacyApproval, readAttestation } from '../../src/harness/approvals/approval.js'
import { createLogger } from '../../src/logger.js'
import { KeyStore } from '../../src/provenance/key-store.js'
import { testRedisUrl } from '../helpers/redis.js'
import { ackState, BOT, LoopWorld, until } from './loop-world.js'

const DAY = 24 * 3_600_000

// A single machine upgraded in place: the key directory held the house keys (timmy's signed
// approvals) before the upgraded router's first start made `_router.key` and `_router.created`.
// Jobs approved before the upgrade (a timmy-signed approval in the job record) run without any
// flag; an old-format approval the old router could not have issued is still refused.
describe('upgrade from timmy-signed approvals: jobs approved before it still run', () => {
  const world = new LoopWorld()
  let workerLoop: RunningLoop | undefined
  let issue = 0

  beforeAll(async () => {
    mkdirSync(world.keyDir, { recursive: true })
    const old = new KeyStore(world.keyDir)
    old.get('timmy')
    old.get('bezalel')
    // The upgraded router, with no worker yet: approved jobs wait in the queue.
    await world.start({ ingress: true, router: true, reporter: true, workers: [] })
    issue = await world.openIssue()
    await world.settle()
  })
  afterAll(async () => {
    await workerLoop?.stop()
    await world.stop()
  })

  /** A job approved by the router, its approval then replaced by one the old router signed. */
  async function approvedBeforeUpgrade(expiresAt: (since: number) => number): Promise<string> {
    const asked = await world.comment('writer', issue, '/run git_push @bezalel')
    const ack = await until('awaiting approval', () =>
      world
        .botComments(issue)
        .find((b) => b.id > asked.id && ackState(b.body)?.state === 'awaiting_approval'),
    )
    const jobId = ackState(ack.body)!.jobId
    const store = world.services.loop!.store
    await until('job record', async () => (await store.get(jobId))?.state)
    await world.comment('sovereign', issue, `/approve ${jobId}`)
    const rec = await until('queued with an approval', async () => {
      const r = await store.getRecord(jobId)
      return r?.state === 'queued' && r.approval ? r : undefined
    })
    const keys = new KeyStore(world.keyDir)
    const reading = readAttestation(rec.approval, [keys.routerPublicKey()!])
    if (!reading.valid) throw new Error(reading.reason)
    const since = Date.parse(keys.routerKeyRecord()!.since)
    const legacy = createLegacyApproval(keys.get('timmy'), {
      approver: reading.attestation.approver,
      digest: reading.attestation.digest,
      expiresAt: new Date(expiresAt(since)),
    })
    expect(await store.transition(jobId, ['queued'], { approval: legacy })).toBeDefined()
    return jobId
  }

  async function storedResult(jobId: string): Promise<StoredResult> {
    const runId = (await world.services.loop!.store.getRecord(jobId))!.runId
    const stored = await world.redis.hget(`${world.prefix}:run:${runId}`, 'result')
    return StoredResult.parse(JSON.parse(stored!))
  }

  function finalAck(jobId: string): Promise<{ state: string; body: string }> {
    return until('final state', () => {
      const a = world.acks(issue, jobId)[0]
      const s = a && ackState(a.body)?.state
      return s && !['awaiting_approval', 'queued', 'running'].includes(s)
        ? { state: s, body: a.body }
        : undefined
    })
  }

  it('the house worker runs a job approved before the upgrade, and refuses one the old router could not have signed', async () => {
    const before = await approvedBeforeUpgrade((since) => since + 20 * 3_600_000)
    // Expires after the upgrade plus the longest approval TTL (commands.approvalTtlSeconds, a day):
    // signed with timmy's key after the upgrade, by whoever still holds it.
    const after = await approvedBeforeUpgrade((since) => since + DAY + 60_000)
    workerLoop = await startLoop({
      config: world.config,
      log: createLogger({ level: 'silent' }),
      redisUrl: testRedisUrl(),
      port: new GiteaJsAdapter({ baseUrl: world.gitea.url, token: world.tokens.bot, retry: { attempts: 2 } }),
      botLogin: BOT,
      pieces: { router: false, reporter: false, workers: ['bezalel'] },
      prefix: world.prefix,
      keyDir: world.keyDir,
    })

    expect((await finalAck(before)).state).toBe('success')
    const ran = await storedResult(before)
    expect(ran.statement!.predicate.approvals[0]).toMatchObject({
      kind: 'legacy',
      approver: 'sage',
      keyid: new KeyStore(world.keyDir).get('timmy').keyid,
    })

    expect((await finalAck(after)).state).toBe('denied')
    const refused = await storedResult(after)
    expect(refused.error).toMatchObject({ rule: 'approval-legacy' })
    expect(refused.error?.reason).toMatch(/not issued before this worker's upgrade/)
    expect(refused.attempts).toBe(0)
  })
})
