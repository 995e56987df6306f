import type { Cluster, Redis } from 'ioredis'
import { FINAL_STATES } from './jobs.js'
import type { RedisJobStore } from './job-store.js'

/** How long a line of an issue workspace lives after its last join (it is emptied as runs end). */
const LINE_TTL_S = 30 * 24 * 3600

/** One run of a job. */
export interface Run {
  jobId: string
  runId: string
}

const member = (run: Run): string => `${run.jobId} ${run.runId}`

/** What names a line: the issue workspace its runs share (repository, issue, house). */
export interface LineOf {
  repo: { owner: string; name: string }
  issue: number
  house: string
}

/**
 * The order in which the runs of one issue workspace may start: the order they were put on their
 * house queue (a Redis sorted set, scored by one counter per prefix). A run starts only when every
 * run before it has ended (final state), was replaced by a `/retry` (its record has another run
 * id), or is no longer on the queue at all (removed by hand); finished ones leave the line.
 *
 * @example
 *   const line = new WorkspaceLine(connection, prefix, store)
 *   await line.join(of, run)                          // when the run is queued
 *   const before = await line.waitingFor(of, run, onQueue) // a run: wait for it; undefined: go
 *   await line.leave(of, run)                         // when it ended
 */
export class WorkspaceLine {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefix: string,
    private readonly store: RedisJobStore,
  ) {}

  private key(of: LineOf): string {
    const repo = `${of.repo.owner}/${of.repo.name}`.toLowerCase()
    return `${this.prefix}:wsline:{${repo}#${of.issue}@${of.house}}`
  }

  /** Puts a run at the end of its line (a repeat keeps its first place). */
  async join(of: LineOf, run: Run): Promise<void> {
    const seq = await this.redis.incr(`${this.prefix}:wsline-seq`)
    const key = this.key(of)
    await this.redis.zadd(key, 'NX', seq, member(run))
    await this.redis.expire(key, LINE_TTL_S)
  }

  async leave(of: LineOf, run: Run): Promise<void> {
    await this.redis.zrem(this.key(of), member(run))
  }

  /**
   * The first run before `runId` that has not ended, or undefined when it is `runId`'s turn (or it
   * is not in the line: a run queued before lines existed). Ended runs found on the way leave.
   */
  async waitingFor(
    of: LineOf,
    run: Run,
    onQueue: (runId: string) => Promise<boolean>,
  ): Promise<Run | undefined> {
    const key = this.key(of)
    const members = await this.redis.zrange(key, 0, -1)
    const mine = members.indexOf(member(run))
    if (mine < 0) return undefined
    for (const earlier of members.slice(0, mine)) {
      const [jobId = '', runId = ''] = earlier.split(' ')
      const rec = await this.store.getRecord(jobId)
      const ended = !rec || rec.runId !== runId || FINAL_STATES.has(rec.state) || !(await onQueue(runId))
      if (!ended) return { jobId, runId }
      await this.redis.zrem(key, earlier)
    }
    return undefined
  }
}
