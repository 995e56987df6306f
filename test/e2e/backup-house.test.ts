// Backup houses with real workers and Redis: ezra names allegro (as strict: same tools, mode and
// approvals, and read-only) as its backup. While no ezra worker is alive, its queued jobs move to
// allegro after failoverAfterSeconds and run there once, and the ack says so; a move cut short
// after its first step (a crash) is finished by ezra's worker when it comes back, without running
// the job itself; once ezra is alive, new jobs run on ezra again. A less strict backup stops
// start-up with a configuration error.
import { Queue } from 'bullmq'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/config/config-error.js'
import { startLoop, type RunningLoop } from '../../src/daemon/start-loop.js'
import { GiteaJsAdapter } from '../../src/gitea/gitea-js-adapter.js'
import { createLogger } from '../../src/logger.js'
import { houseQueueName } from '../../src/queue/queue-names.js'
import { liveness } from '../../src/workers/heartbeat.js'
import { ackState, LoopWorld, until } from './loop-world.js'

const FAILOVER_S = 2
const world = new LoopWorld({
  fileConfig: (c) => {
    const houses = c.houses as Record<string, Record<string, unknown>>
    houses.ezra = { ...houses.ezra, mode: 'simple', backup: 'allegro', failoverAfterSeconds: FAILOVER_S }
    houses.allegro = { ...houses.allegro, readOnly: true }
    return c
  },
})
let ezra: RunningLoop | undefined

beforeAll(async () => {
  // Only the backup runs a worker at first.
  await world.start({ ingress: true, router: true, reporter: true, workers: ['allegro'] })
}, 30_000)
afterAll(async () => {
  await ezra?.stop()
  await world.stop()
})

const store = () => world.services.loop!.store

async function queuedJob(issue: number, body: string): Promise<string> {
  const c = await world.comment('writer', issue, body)
  const ack = await until('the job queued', () =>
    world.botComments(issue).find((b) => b.id > c.id && ackState(b.body)?.state === 'queued'),
  )
  const jobId = ackState(ack.body)!.jobId
  // The ack is posted before the record is stored.
  await until('the job recorded', () => store().getRecord(jobId))
  return jobId
}

describe('backup houses', () => {
  it("moves a house's queued jobs to its backup once no worker of it was alive for failoverAfterSeconds; the ack says so", async () => {
    const issue = await world.openIssue('Ezra is away')
    const queuedAt = Date.now()
    const jobIds = [
      await queuedJob(issue, '/run slow seconds=0.1 @ezra'),
      await queuedJob(issue, '/run slow seconds=0.1 @ezra'),
    ]
    const acks = await Promise.all(jobIds.map((id) => world.finalAck(issue, id)))
    expect(Date.now() - queuedAt).toBeGreaterThanOrEqual(FAILOVER_S * 1000)
    for (const [i, id] of jobIds.entries()) {
      const rec = await store().getRecord(id)
      expect(rec).toMatchObject({ state: 'success', house: 'allegro', failoverFrom: 'ezra' })
      expect((await store().progress(rec!.runId)).started?.worker).toMatch(/:allegro$/)
      // Its text is escaped for Markdown.
      expect(acks[i]!.body).toContain('house chosen: backup of ezra\\: no worker of ezra alive for 2 s')
      expect(acks[i]!.body).toContain('moved from house\\-ezra')
      expect(acks[i]!.body).toContain('`slow` on house **allegro**: success')
      // One ack comment per job, edited in place.
      expect(world.acks(issue, id)).toHaveLength(1)
    }
  }, 30_000)

  it('a move cut short after its first step is finished by the house when it comes back, and its new jobs stay on it', async () => {
    const issue = await world.openIssue('A move cut short')
    const cut = await queuedJob(issue, '/run slow seconds=0.1 @ezra')
    const rec = (await store().getRecord(cut))!
    // The first step of a move (the record names the backup), then the mover "crashed": the run
    // is still on ezra's queue and not on allegro's.
    await store().moveRun(cut, rec.runId, {
      to: 'allegro',
      from: 'ezra',
      reason: 'backup of ezra: cut short',
    })
    ezra = await world.startWorkers(['ezra'], 'back')
    await until('ezra alive', async () =>
      (await liveness(world.redis, world.prefix, 'ezra')).alive ? true : undefined,
    )
    const ack = await world.finalAck(issue, cut)
    expect(ackState(ack.body)?.state).toBe('success')
    expect(await store().getRecord(cut)).toMatchObject({ house: 'allegro', state: 'success' })
    // Ezra's worker took it off its queue but did not run it: allegro did.
    expect((await store().progress(rec.runId)).started?.worker).toMatch(/:allegro$/)
    const ezraQueue = new Queue(houseQueueName('ezra'), { connection: world.redis, prefix: world.prefix })
    expect((await ezraQueue.getJob(rec.runId))?.returnvalue).toBe('moved to house allegro')
    await ezraQueue.close()
    expect(world.acks(issue, cut)).toHaveLength(1)

    const fresh = await queuedJob(issue, '/run slow seconds=0.1 @ezra')
    await world.finalAck(issue, fresh)
    const freshRec = await store().getRecord(fresh)
    expect(freshRec).toMatchObject({ house: 'ezra', state: 'success' })
    expect(freshRec!.failoverFrom).toBeUndefined()
    expect((await store().progress(freshRec!.runId)).started?.worker).toMatch(/^back:ezra$/)
  }, 30_000)

  it('refuses to start with a backup less strict than its house, naming why', async () => {
    const config = structuredClone(world.config)
    config.file.houses = { ...config.file.houses, timmy: { backup: 'ezra' } }
    const starting = startLoop({
      config,
      log: createLogger({ level: 'silent' }),
      redisUrl: world.redisUrl,
      port: new GiteaJsAdapter({ baseUrl: world.gitea.url, token: world.tokens.bot }),
      botLogin: 'uni-wizard',
      pieces: { router: false, reporter: false, workers: ['ezra'] },
      prefix: world.prefix,
    })
    await expect(starting).rejects.toBeInstanceOf(ConfigError)
    await expect(starting).rejects.toThrow(
      /houses\.timmy\.backup: expected another configured house, as strict as this one or stricter, with no cycle, found ezra is less strict than timmy \(a house never fails over to a less strict policy\): its mode simple is less strict than timmy's sovereign/,
    )
  })
})
