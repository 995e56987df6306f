// The job listing indexes (src/jobs/job-index.ts) over the real Redis: written by the same scripts
// as the records, so a listing agrees with the records through every transition; paged newest first.
import { Redis } from 'ioredis'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { jobIndexKey, JOB_STATES } from '../../src/jobs/job-index.js'
import { listJobs } from '../../src/jobs/job-listing.js'
import { RedisJobStore, type JobRecord } from '../../src/jobs/job-store.js'
import { jobRecord } from '../helpers/job-records.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

let redis: Redis
let prefix: string
let store: RedisJobStore
beforeEach(() => {
  redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null })
  prefix = uniquePrefix()
  store = new RedisJobStore(redis, prefix)
})
afterEach(async () => {
  await cleanupPrefix(prefix)
  redis.disconnect()
})

/** Every index holds exactly the ids the records say it should. */
async function expectIndexesAgree(ids: readonly string[]): Promise<void> {
  const records = (await Promise.all(ids.map((id) => store.getRecord(id)))).filter(
    (r): r is JobRecord => r !== undefined,
  )
  const members = (key: string) => redis.zrange(key, 0, -1).then((m) => m.sort())
  const expected = (pick: (r: JobRecord) => boolean) =>
    records
      .filter(pick)
      .map((r) => r.id)
      .sort()
  expect(await members(jobIndexKey(prefix, 'all'))).toEqual(expected(() => true))
  for (const state of JOB_STATES)
    expect(await members(jobIndexKey(prefix, 'state', state)), state).toEqual(
      expected((r) => r.state === state),
    )
  for (const house of new Set(records.map((r) => r.house)))
    expect(await members(jobIndexKey(prefix, 'house', house))).toEqual(expected((r) => r.house === house))
}

describe('job listing indexes', () => {
  it('follow every way a record changes state: transition, pickUp, startRun, endRun, queued endRun, moveRun', async () => {
    const ids = ['ja', 'jb', 'jc', 'jd', 'je']
    for (const [i, id] of ids.entries()) await store.create(jobRecord({ id, ageMs: 1000 - i }))
    await expectIndexesAgree(ids)

    await store.transition('ja', ['queued'], { state: 'cancelled' })
    const picked = await store.pickUp('jb', {
      runId: 'jb',
      tool: 'git_status',
      house: 'bezalel',
      write: false,
      worker: 'w1',
      at: new Date().toISOString(),
    })
    expect(picked.started).toBe(true)
    await store.startRun('jc', ['queued'], { state: 'running' }, { runId: 'jc', worker: 'w1', at: 'now' })
    await store.endRun('jc', ['running'], { state: 'success' }, { runId: 'jc', result: '{}' })
    const multi = redis.multi()
    store.queueEndRun(multi, 'jd', ['queued'], { state: 'failure' }, { runId: 'jd', result: '{}' })
    await multi.exec()
    // Refused transitions change nothing, in the record or the indexes.
    expect(await store.transition('ja', ['running'], { state: 'success' })).toBeUndefined()
    expect(await store.endRun('je', ['queued'], { state: 'success' }, { runId: 'other', result: '{}' })).toBe(
      undefined,
    )
    // A queued run moved to a backup house is listed under that house (and only there).
    expect(await store.moveRun('je', 'je', { to: 'ezra', from: 'bezalel', reason: 'backup' })).toBeDefined()
    await expectIndexesAgree(ids)
    expect(await redis.zrange(jobIndexKey(prefix, 'house', 'ezra'), 0, -1)).toEqual(['je'])
    expect(await redis.zrange(jobIndexKey(prefix, 'state', 'running'), 0, -1)).toEqual(['jb'])
    expect(await redis.zrange(jobIndexKey(prefix, 'state', 'queued'), 0, -1)).toEqual(['je'])

    // A retry moves it back out of its final state.
    await store.transition('ja', ['cancelled'], { state: 'queued', run: 2, runId: 'ja.r' })
    await expectIndexesAgree(ids)
  })

  it('a second create of the same id changes no index', async () => {
    await store.create(jobRecord({ id: 'j1', house: 'ezra' }))
    expect(await store.create(jobRecord({ id: 'j1', house: 'timmy', state: 'running' }))).toBe(false)
    expect(await redis.exists(jobIndexKey(prefix, 'house', 'timmy'))).toBe(0)
    await expectIndexesAgree(['j1'])
  })

  it('forgets ids of records past their lifetime at the next create', async () => {
    const short = new RedisJobStore(redis, prefix, 60)
    await short.create(jobRecord({ id: 'old', ageMs: 120_000 }))
    await short.create(jobRecord({ id: 'new' }))
    expect(await redis.zrange(jobIndexKey(prefix, 'all'), 0, -1)).toEqual(['new'])
    expect(await redis.zrange(jobIndexKey(prefix, 'state', 'queued'), 0, -1)).toEqual(['new'])
  })
})

describe('listJobs', () => {
  it('pages newest first with a cursor, ties in creation time included, nothing twice or lost', async () => {
    const base = Date.now()
    const ids: string[] = []
    for (let i = 0; i < 23; i++) {
      const id = `j${String(i).padStart(2, '0')}`
      ids.push(id)
      // Groups of three created in the same millisecond.
      await store.create(
        jobRecord({ id, createdAt: new Date(base - 1000 + Math.floor(i / 3)).toISOString() }),
      )
    }
    const seen: string[] = []
    let cursor
    for (let page = 0; page < 10; page++) {
      const p = await listJobs(redis, prefix, {}, { cursor, limit: 5 })
      seen.push(...p.jobs.map((j) => j.id))
      if (!p.next) break
      cursor = p.next
    }
    expect(seen).toEqual([...ids].sort((a, b) => (a < b ? 1 : -1)))
  })

  it.each([
    ['house', { house: 'ezra' }, ['j5', 'j1']],
    ['state', { state: 'failure' as const }, ['j4', 'j3']],
    ['repository, case-insensitive', { repo: 'Other/Repo' }, ['j5', 'j4']],
    ['requester', { requester: 'ann' }, ['j5', 'j2']],
    ['house and state', { house: 'ezra', state: 'failure' as const }, []],
    ['repository and requester', { repo: 'other/repo', requester: 'ann' }, ['j5']],
    ['nothing', {}, ['j5', 'j4', 'j3', 'j2', 'j1']],
  ])('filters by %s', async (_, filter, expected) => {
    await store.create(jobRecord({ id: 'j1', house: 'ezra', ageMs: 5 }))
    await store.create(jobRecord({ id: 'j2', requester: 'Ann', ageMs: 4 }))
    await store.create(jobRecord({ id: 'j3', state: 'failure', ageMs: 3 }))
    await store.create(jobRecord({ id: 'j4', state: 'failure', repo: 'other/repo', ageMs: 2 }))
    await store.create(jobRecord({ id: 'j5', house: 'ezra', repo: 'other/repo', requester: 'ann', ageMs: 1 }))
    const page = await listJobs(redis, prefix, filter, { limit: 10 })
    expect(page.jobs.map((j) => j.id)).toEqual(expected)
    expect(page.next).toBeUndefined()
  })

  it('with several filters, walks the smallest index and ends a page early past its scan limit', async () => {
    // 12 ezra jobs, 15 by ann, and only the oldest is both.
    for (let i = 0; i < 26; i++) {
      const ezra = i < 12
      const ann = i === 0 || i >= 12
      await store.create(
        jobRecord({
          id: `j${i}`,
          house: ezra ? 'ezra' : 'bezalel',
          requester: ann ? 'ann' : 'wren',
          ageMs: 100 - i,
        }),
      )
    }
    const filter = { house: 'ezra', requester: 'ann' }
    const pages: string[][] = []
    let cursor
    for (let n = 0; n < 10; n++) {
      const p = await listJobs(redis, prefix, filter, { limit: 2, scanLimit: 5, cursor })
      pages.push(p.jobs.map((j) => j.id))
      cursor = p.next
      if (!cursor) break
    }
    // 5 ids per page at most: two empty pages, then the match and the end.
    expect(pages).toEqual([[], [], ['j0']])
  })

  it('skips ids whose record expired or was removed', async () => {
    await store.create(jobRecord({ id: 'j1', ageMs: 2 }))
    await store.create(jobRecord({ id: 'j2', ageMs: 1 }))
    await redis.del(`${prefix}:job:j2`)
    expect((await listJobs(redis, prefix, {})).jobs.map((j) => j.id)).toEqual(['j1'])
  })
})
