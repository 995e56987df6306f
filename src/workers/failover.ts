import type { BullJobs } from '../jobs/bull-jobs.js'
import type { JobRecord, RedisJobStore } from '../jobs/job-store.js'
import type { HousePolicy } from '../houses/house-policy.js'
import type { Logger } from '../logger.js'
import type { RedisClient } from '../queue/connection.js'
import type { ToolSpec } from '../tools/tool.js'
import { liveness } from './heartbeat.js'

const MODES: readonly JobRecord['mode'][] = ['SIMPLE', 'INTELLIGENT', 'SOVEREIGN']

export interface FailoverOptions {
  /** The house this process runs workers for, the backup of `houses`. */
  backup: HousePolicy
  /** The houses that name `backup` as theirs. */
  houses: readonly HousePolicy[]
  tools: readonly ToolSpec[]
  jobs: BullJobs
  store: RedisJobStore
  connection: RedisClient
  prefix: string
  /** How often to look (the heartbeat period). */
  periodMs: number
  log: Logger
}

/**
 * Whether a queued job may move to the backup: it runs there without an approval, as it would on
 * its house. An approval is bound to the house it was given for, and a job the backup would hold
 * for one is better left to wait for its house than to be refused.
 */
function runsWithoutApproval(
  rec: { approvalRequired: boolean; tool: string },
  backup: HousePolicy,
  tools: ReadonlyMap<string, ToolSpec>,
): boolean {
  if (rec.approvalRequired || backup.mode === 'sovereign' || backup.approvalRequired === 'all') return false
  if (backup.approvalRequired === 'none') return true
  return tools.get(rec.tool)?.access === 'read'
}

/**
 * Moves the queued (waiting, not running) jobs of houses that name this worker's house as their
 * `backup` to its queue, once no worker of theirs has been alive for `failoverAfterSeconds` and
 * the job has waited as long. Runs in every worker process of the backup house; concurrent passes
 * and crashes mid-move are safe (`BullJobs.moveRun`). The ack comment names the new house and why.
 * When the house has a live worker again, nothing moves: new jobs stay on it.
 *
 * @example
 *   const failover = startFailover({ backup: policies.ezra, houses: [policies.bezalel], ... })
 *   failover.stop()
 */
export function startFailover(opts: FailoverOptions): { pass(): Promise<number>; stop(): void } {
  const tools = new Map(opts.tools.map((t) => [t.name, t]))
  // A moved job runs at least in the backup's mode (a job's own mode wins over its house's).
  const backupMode = opts.backup.mode.toUpperCase() as JobRecord['mode']
  const log = opts.log.child({ component: 'failover', backup: opts.backup.name })
  let busy = false
  const pass = async (): Promise<number> => {
    if (busy) return 0
    busy = true
    let moved = 0
    try {
      for (const house of opts.houses) {
        const afterMs = house.failoverAfterSeconds * 1000
        const now = Date.now()
        const live = await liveness(opts.connection, opts.prefix, house.name, now)
        if (live.alive || (live.lastSeen !== undefined && now - Date.parse(live.lastSeen) < afterMs)) continue
        const reason = `backup of ${house.name}: no worker of ${house.name} alive for ${house.failoverAfterSeconds} s${live.lastSeen ? ` (last seen ${live.lastSeen})` : ''}; moved from house-${house.name}`
        for (const { data, queuedAt } of await opts.jobs.waitingRuns(house.name)) {
          if (now - queuedAt < afterMs) break // oldest first: the rest waited less
          const rec = await opts.store.getRecord(data.jobId)
          if (!rec || !runsWithoutApproval(rec, opts.backup, tools)) continue
          const done = await opts.jobs.moveRun(data, {
            from: house.name,
            to: opts.backup.name,
            reason,
            ...(MODES.indexOf(backupMode) > MODES.indexOf(rec.mode) ? { mode: backupMode } : {}),
          })
          if (done) {
            moved++
            log.info({ jobId: rec.id, from: house.name }, 'queued job moved to the backup house')
          }
        }
      }
    } catch (err) {
      log.warn({ err }, 'failover pass failed; trying again')
    } finally {
      busy = false
    }
    return moved
  }
  const timer = setInterval(() => void pass(), opts.periodMs)
  timer.unref()
  return { pass, stop: () => clearInterval(timer) }
}
