import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLoop, type RunningLoop } from '../../src/daemon/start-loop.js'
import { StoredResult } from '../../src/jobs/stored-result.js'
import { GiteaJsAdapter } from '../../src/gitea/gitea-js-adapter.js'
import { readAttestation } from '../../src/harness/approvals/approval.js'
import { createLogger } from '../../src/logger.js'
import { verifyEnvelope } from '../../src/provenance/dsse.js'
import { KeyStore } from '../../src/provenance/key-store.js'
import { testRedisUrl } from '../helpers/redis.js'
import { ackState, BOT, LoopWorld, until } from './loop-world.js'

// A house key file no one can load: if any code in the router's process tries, it throws.
const TRAP = 'not a key: the router must never load a house private key\n'

describe('key custody: the router signs approvals with its own key, never a house key', () => {
  const world = new LoopWorld()
  let workerLoop: RunningLoop | undefined
  let routerDir = ''
  let workerDir = ''
  let issue = 0

  beforeAll(async () => {
    // The router's machine: its key dir holds trap files where house private keys used to live.
    routerDir = world.keyDir
    mkdirSync(routerDir, { recursive: true })
    for (const house of ['timmy', 'bezalel']) writeFileSync(join(routerDir, `${house}.key`), TRAP)
    await world.start({ ingress: true, router: true, reporter: true, workers: [] })
    // The worker's machine: its own key dir, with only the router's PUBLIC key copied in.
    workerDir = join(world.dir, 'worker-keys')
    mkdirSync(workerDir, { recursive: true })
    copyFileSync(join(routerDir, '_router.pub'), join(workerDir, '_router.pub'))
    workerLoop = await startLoop({
      config: world.config,
      log: createLogger({ level: 'silent' }),
      redisUrl: testRedisUrl(),
      port: new GiteaJsAdapter({ baseUrl: world.gitea.url, token: world.tokens.bot, retry: { attempts: 2 } }),
      botLogin: BOT,
      pieces: { router: false, reporter: false, workers: ['bezalel'] },
      prefix: world.prefix,
      keyDir: workerDir,
    })
    issue = await world.openIssue()
    await world.settle()
  })
  afterAll(async () => {
    await workerLoop?.stop()
    await world.stop()
  })

  it('/approve on a split install: the router attests, the bezalel worker accepts, no house key leaves its machine', async () => {
    const asked = await world.comment('writer', issue, '/run git_push @bezalel')
    const ack = await until('awaiting approval', () =>
      world
        .botComments(issue)
        .find((b) => b.id > asked.id && ackState(b.body)?.state === 'awaiting_approval'),
    )
    const jobId = ackState(ack.body)!.jobId
    await until('job record', async () => (await world.services.loop!.store.get(jobId))?.state)
    const approveComment = await world.comment('sovereign', issue, `/approve ${jobId}`)
    const final = await until('approved job final', () => {
      const a = world.acks(issue, jobId)[0]
      const s = a && ackState(a.body)?.state
      return s && !['awaiting_approval', 'queued', 'running'].includes(s) ? a : undefined
    })
    expect(ackState(final.body)?.state).toBe('success')

    // The router's machine: its own key, the traps untouched, no house key created or replaced.
    const routerKeys = readdirSync(routerDir)
      .filter((n) => n.endsWith('.key'))
      .sort()
    expect(routerKeys).toEqual(['_router.key', 'bezalel.key', 'timmy.key'])
    for (const house of ['timmy', 'bezalel'])
      expect(readFileSync(join(routerDir, `${house}.key`), 'utf8')).toBe(TRAP)
    // The worker's machine: its house key, and no router private key.
    expect(readdirSync(workerDir).filter((n) => n.endsWith('.key'))).toEqual(['bezalel.key'])

    // The stored result: signed by bezalel's key, naming the router's attestation of the comment.
    const runId = (await world.services.loop!.store.getRecord(jobId))!.runId
    const stored = await world.redis.hget(`${world.prefix}:run:${runId}`, 'result')
    const result = StoredResult.parse(JSON.parse(stored!))
    const bezalel = new KeyStore(workerDir).publicKey('bezalel')!
    expect(verifyEnvelope(result.envelope, [bezalel]).valid).toBe(true)
    const [approval] = result.statement!.predicate.approvals
    const routerPub = new KeyStore(routerDir).routerPublicKey()!
    const reading = readAttestation(approval!.attestation, [routerPub])
    expect(reading.valid).toBe(true)
    if (!reading.valid) return
    expect(reading.attestation).toMatchObject({
      approver: 'sage',
      house: 'bezalel',
      jobId,
      comment: { id: approveComment.id },
      role: { sovereignOf: 'bezalel' },
    })
    // The router's key signs nothing as a house: it does not verify the result's statement.
    expect(verifyEnvelope(result.envelope, [routerPub]).valid).toBe(false)
  })
})
