import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import type { RedisJobStore } from '../../src/jobs/job-store.js'
import { WorkspaceLine } from '../../src/jobs/workspace-line.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

// The order of the runs of one issue workspace (real Redis; job records faked by their state).
describe('WorkspaceLine', () => {
  const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 })
  const prefix = uniquePrefix()
  afterAll(async () => {
    redis.disconnect()
    await cleanupPrefix(prefix)
  })
  const records = new Map<string, { runId: string; state: string }>()
  const store = { getRecord: async (id: string) => records.get(id) } as unknown as RedisJobStore
  const line = new WorkspaceLine(redis, prefix, store)
  const of = { repo: { owner: 'Olive', name: 'Demo' }, issue: 3, house: 'bezalel' }
  const onQueue = async () => true
  const run = (jobId: string, runId = jobId) => ({ jobId, runId })

  it('lets a run start only after every run queued before it ended, however it ended', async () => {
    for (const id of ['a', 'b', 'c', 'd']) {
      records.set(id, { runId: id, state: 'queued' })
      await line.join(of, run(id))
    }
    await line.join(of, run('a')) // a repeat keeps its place
    expect(await line.waitingFor(of, run('a'), onQueue)).toBeUndefined()
    expect(await line.waitingFor(of, run('c'), onQueue)).toEqual(run('a'))
    records.set('a', { runId: 'a', state: 'failure' })
    expect(await line.waitingFor(of, run('c'), onQueue)).toEqual(run('b'))
    records.set('b', { runId: 'b', state: 'cancelled' })
    expect(await line.waitingFor(of, run('c'), onQueue)).toBeUndefined()
    // d waits for c, which is running; then c is retried (a new run id): the old run no longer blocks.
    records.set('c', { runId: 'c', state: 'running' })
    expect(await line.waitingFor(of, run('d'), onQueue)).toEqual(run('c'))
    records.set('c', { runId: 'c.r1', state: 'queued' })
    await line.join(of, run('c', 'c.r1'))
    expect(await line.waitingFor(of, run('d'), onQueue)).toBeUndefined()
    // ...and the retried run comes after d.
    expect(await line.waitingFor(of, run('c', 'c.r1'), onQueue)).toEqual(run('d'))
    // A run no longer on its queue (removed by hand) does not block either.
    expect(await line.waitingFor(of, run('c', 'c.r1'), async (id) => id !== 'd')).toBeUndefined()
  })

  it('keeps other issues and houses apart, and a run not in any line goes at once', async () => {
    records.set('x', { runId: 'x', state: 'running' })
    await line.join({ ...of, issue: 4 }, run('x'))
    records.set('y', { runId: 'y', state: 'queued' })
    await line.join({ ...of, issue: 4, house: 'ezra' }, run('y'))
    expect(await line.waitingFor({ ...of, issue: 4, house: 'ezra' }, run('y'), onQueue)).toBeUndefined()
    expect(await line.waitingFor({ ...of, issue: 4 }, run('z'), onQueue)).toBeUndefined()
    await line.leave({ ...of, issue: 4 }, run('x'))
    records.set('w', { runId: 'w', state: 'queued' })
    await line.join({ ...of, issue: 4 }, run('w'))
    expect(await line.waitingFor({ ...of, issue: 4 }, run('w'), onQueue)).toBeUndefined()
  })
})
