import type { Cluster, Redis } from 'ioredis'
import { jobIndexKey, type JobCursor, type JobFilter } from './job-index.js'
import { recordFromReply, type JobRecord } from './job-store.js'

export interface JobPage {
  jobs: JobRecord[]
  /** Where the next page starts; undefined on the last page. */
  next: JobCursor | undefined
}

type Client = Redis | Cluster

/** Ids of `key`, newest first, strictly after `after`: up to `count`, with their scores. */
async function idsAfter(
  redis: Client,
  key: string,
  after: JobCursor | undefined,
  count: number,
): Promise<JobCursor[]> {
  const out: JobCursor[] = []
  let max = after ? String(after.score) : '+inf'
  // Ids of equal score come in reverse lexical order; the cursor's own and those before it are skipped.
  let skipTie = after
  while (out.length < count) {
    const want = count - out.length + (skipTie ? 16 : 0)
    const flat = await redis.zrevrangebyscore(key, max, '-inf', 'WITHSCORES', 'LIMIT', 0, want)
    if (flat.length === 0) break
    let last: JobCursor | undefined
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const c = { id: flat[i]!, score: Number(flat[i + 1]) }
      last = c
      if (skipTie && c.score === skipTie.score && c.id >= skipTie.id) continue
      if (out.length < count) out.push(c)
    }
    if (flat.length / 2 < want || !last) break
    // Everything at `last.score` down to `last.id` is seen: carry on from there.
    skipTie = last
    max = String(last.score)
  }
  return out
}

/**
 * A page of job records, newest first, matching `filter`, after `cursor`. With no filter or one,
 * it reads that one index; with several (or `keep`), it walks the smallest and keeps the records
 * that match the others (examining at most `scanLimit` ids, then ends the page early with a cursor).
 *
 * @example
 *   const page = await listJobs(redis, '{uw}', { house: 'ezra', state: 'failure' }, { limit: 50 })
 *   page.next && cursorText(page.next) // the next page's link
 */
export async function listJobs(
  redis: Client,
  prefix: string,
  filter: JobFilter,
  opts: {
    cursor?: JobCursor
    limit?: number
    scanLimit?: number
    /** Keeps only the records it says yes to (who may see them), besides `filter`. */
    keep?: (r: JobRecord) => boolean | Promise<boolean>
  } = {},
): Promise<JobPage> {
  const limit = opts.limit ?? 50
  const given = (Object.entries(filter) as [keyof JobFilter, string | undefined][]).filter(
    (e): e is [keyof JobFilter, string] => e[1] !== undefined && e[1] !== '',
  )
  const keys = given.map(([k, v]) => jobIndexKey(prefix, k, v))
  let key = keys[0] ?? jobIndexKey(prefix, 'all')
  if (keys.length > 1) {
    const sizes = await Promise.all(keys.map((k) => redis.zcard(k)))
    key = keys[sizes.indexOf(Math.min(...sizes))]!
  }
  const scanLimit = Math.max(opts.scanLimit ?? 5000, limit)
  const jobs: JobRecord[] = []
  let cursor = opts.cursor
  let examined = 0
  let exhausted = false
  while (jobs.length < limit && examined < scanLimit) {
    // One more than asked, to know whether a next page exists.
    // `keep` drops an unknown share: read twice what is missing (at most 200) rather than 200 at once.
    const missing = limit + 1 - jobs.length
    const batch =
      keys.length > 1
        ? Math.min(200, scanLimit - examined)
        : opts.keep
          ? Math.min(200, 2 * missing, scanLimit - examined)
          : missing
    const ids = await idsAfter(redis, key, cursor, batch)
    if (ids.length === 0) {
      exhausted = true
      break
    }
    const records = await readRecords(redis, prefix, ids)
    for (let i = 0; i < ids.length; i++) {
      examined++
      const r = records[i]
      if (r && matches(r, filter) && (!opts.keep || (await opts.keep(r)))) {
        if (jobs.length === limit) return { jobs, next: cursor }
        jobs.push(r)
      }
      cursor = ids[i]
    }
    if (ids.length < batch) {
      exhausted = true
      break
    }
  }
  return { jobs, next: exhausted ? undefined : cursor }
}

async function readRecords(
  redis: Client,
  prefix: string,
  ids: readonly JobCursor[],
): Promise<(JobRecord | undefined)[]> {
  const pipeline = redis.pipeline()
  for (const { id } of ids) pipeline.call('HGETALL', `${prefix}:job:${id}`)
  const replies = (await pipeline.exec()) ?? []
  return replies.map(([err, reply]) => (err ? undefined : recordFromReply(reply)))
}

function matches(r: JobRecord, f: JobFilter): boolean {
  return (
    (f.house === undefined || f.house === '' || r.house === f.house) &&
    (f.state === undefined || r.state === f.state) &&
    (f.repo === undefined ||
      f.repo === '' ||
      `${r.origin.repo.owner}/${r.origin.repo.name}`.toLowerCase() === f.repo.toLowerCase()) &&
    (f.requester === undefined ||
      f.requester === '' ||
      (r.firstRequester ?? r.requester).login.toLowerCase() === f.requester.toLowerCase())
  )
}
