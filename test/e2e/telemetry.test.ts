import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readTelemetry, telemetryStreamKey, type StoredTelemetryEvent } from '../../src/telemetry/index.js'
import { ackState, LoopWorld, until } from './loop-world.js'

// Issue 14 §1: every job event is appended once to the telemetry stream, secrets never.
describe('telemetry of the bot loop (real ingress, router, workers, reporter on the test Redis)', () => {
  const world = new LoopWorld()
  let issue = 0

  beforeAll(async () => {
    await world.start()
    issue = await world.openIssue()
    await world.settle()
  })
  afterAll(() => world.stop())

  const eventsOf = async (jobId: string): Promise<StoredTelemetryEvent[]> =>
    (await readTelemetry(world.redis, world.prefix, '0', { count: 10_000, filter: { job: jobId } })).events

  async function finalAck(jobId: string, run: number) {
    return until(`run ${run} of ${jobId} final`, () => {
      const a = world.acks(issue, jobId)[0]
      const s = a && ackState(a.body)?.state
      return a && a.body.includes(run > 1 ? ` · run ${run}` : '') && s && !['queued', 'running'].includes(s)
        ? a
        : undefined
    })
  }

  it('a failed job retried: each state of each run appended once, in order, without the token its error quoted', async () => {
    const token = world.tokens.bot
    // The file name is the bot's Gitea token: the failure's reason quotes it.
    const c = await world.comment('writer', issue, `/run file_read path=${token}.txt @ezra`)
    const ack = await until('ack', () =>
      world.botComments(issue).find((b) => b.id > c.id && ackState(b.body)?.state === 'failure'),
    )
    const jobId = ackState(ack.body)!.jobId
    await world.comment('sovereign', issue, `/retry ${jobId}`)
    await finalAck(jobId, 2)
    // The same retry effect applied again (the router repeating it after a crash): nothing new.
    const rec = (await world.services.loop!.store.getRecord(jobId))!
    await world.services.loop!.jobs.retry(jobId, 'sage', rec.retryKeys[0]!)
    await until('run 2 reported', async () =>
      (await eventsOf(jobId)).some((e) => e.type === 'report.posted' && 'run' in e && e.run === 2)
        ? true
        : undefined,
    )

    const events = await eventsOf(jobId)
    const steps = events.map((e) => `${'run' in e ? e.run : 0} ${e.type}${'state' in e ? ` ${e.state}` : ''}`)
    expect(new Set(steps).size).toBe(steps.length)
    for (const run of [1, 2]) {
      const of = steps.filter((s) => s.startsWith(`${run} `)).filter((s) => !s.includes('report.posted'))
      expect(of).toEqual([
        `${run} job.queued`,
        `${run} job.started`,
        `${run} tool.started`,
        `${run} tool.finished`,
        `${run} job.finished failure`,
      ])
    }
    expect(steps).toContain('1 report.posted failure')
    expect(steps).toContain('2 report.posted failure')
    const ids = events.map((e) => e.id)
    expect(ids).toEqual(
      [...ids].sort((a, b) => (BigInt(a.split('-')[0]!) < BigInt(b.split('-')[0]!) ? -1 : 0)),
    )
    const finished = events.find((e) => e.type === 'job.finished')!
    expect(finished).toMatchObject({ house: 'ezra', tool: 'file_read', durationMs: expect.any(Number) })
    expect((finished as { reason?: string }).reason).toContain('[redacted]')

    const raw = JSON.stringify(await world.redis.xrange(telemetryStreamKey(world.prefix), '-', '+'))
    expect(raw).not.toContain(token)
    expect(raw).not.toContain(token.slice(0, 12))
  })

  it('an approval job: approval asked, approved, queued, each once; workers appear as heartbeats gained', async () => {
    const c = await world.comment('writer', issue, '/run git_push @bezalel')
    const ack = await until('ack', () =>
      world.botComments(issue).find((b) => b.id > c.id && ackState(b.body)?.state === 'awaiting_approval'),
    )
    const jobId = ackState(ack.body)!.jobId
    await until('record', async () => (await world.services.loop!.store.get(jobId))?.state)
    await world.comment('sovereign', issue, `/approve ${jobId}`)
    await finalAck(jobId, 1)
    await until('reported', async () =>
      (await eventsOf(jobId)).some((e) => e.type === 'report.posted' && e.state === 'success')
        ? true
        : undefined,
    )
    const types = (await eventsOf(jobId)).map((e) => e.type).filter((t) => t !== 'report.posted')
    expect(types).toEqual([
      'job.approval_asked',
      'job.approved',
      'job.queued',
      'job.started',
      'tool.started',
      'tool.finished',
      'job.finished',
    ])
    const all = (await readTelemetry(world.redis, world.prefix, '0', { count: 10_000 })).events
    const gained = all.filter((e) => e.type === 'house.heartbeat_gained').map((e) => e.house)
    expect(gained.sort()).toEqual(world.services.loop!.workers.map((w) => w.house).sort())
  })
})
