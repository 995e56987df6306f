import type { HouseInfo, HouseLiveness } from '../commands-core/command-spec.js'
import type { HouseToolSummary, IntelligenceView } from '../intelligence/intelligence-view.js'
import { listJobs } from '../jobs/job-listing.js'
import type { JobState } from '../jobs/jobs.js'
import type { QueueDepth, QueueDepthSource } from '../metrics/queue-metrics.js'
import type { RedisClient } from '../queue/connection.js'
import { houseQueueName } from '../queue/queue-names.js'

/** A circuit breaker's state, as the harness stores it. */
export type CircuitState = 'closed' | 'open' | 'half-open'

/** One configured house, as the houses page needs it (nothing secret: no agent key or endpoint). */
export interface FleetHouse {
  info: HouseInfo
  /** Jobs one worker of the house runs at once. */
  concurrency: number
  /** The agent's daily token budget; undefined for a house without an agent. */
  dailyTokenBudget: number | undefined
}

/**
 * What the houses page reads, as narrow functions the daemon wires (src/daemon/dashboard-fleet.ts)
 * over the loop's own readers: heartbeats, token budgets, circuit breakers, predictions, queue
 * depths. The dashboard never imports the workers or the harness.
 */
export interface FleetSources {
  /** The configured houses, in configuration order. */
  houses: readonly FleetHouse[]
  liveness(house: string): Promise<HouseLiveness>
  /** Tokens the house's agent used today (UTC). */
  tokensUsedToday(house: string): Promise<number>
  /** The circuit of every tool the house may run. */
  circuits(house: string): Promise<{ tool: string; state: CircuitState }[]>
  /** Predictions and learning velocity per house × tool (the pattern store). */
  intelligence?: IntelligenceView
  /** The process's queue depths (shared with the metrics, cached briefly). */
  queues?: QueueDepthSource
}

/** How many of a house's newest finished jobs its success rate is computed over. */
export const SUCCESS_WINDOW = 100

/** Finished states that say how the work went; `denied` and `cancelled` are people's decisions. */
const JUDGED: ReadonlySet<JobState> = new Set(['success', 'failure', 'unverified', 'timeout'])

/** One house as the houses page shows it. */
export interface HouseOverview {
  house: FleetHouse
  workers: HouseLiveness
  queue: QueueDepth['counts'] | undefined
  /** Success over the house's newest finished jobs (up to SUCCESS_WINDOW); undefined rate with none. */
  success: { judged: number; rate: number | undefined }
  /**
   * The house's learning velocity: its 7-day success rate over all its tools and tasks now and a
   * week earlier (weighted by runs), and the change; undefined unless both weeks had runs.
   */
  velocity: { rate: number; previousRate: number; changePerWeek: number } | undefined
  /** Predictions per tool or task with history (the pattern store), below-floor ones first. */
  predictions: HouseToolSummary[]
  budget: { daily: number; used: number } | undefined
  /** Circuits that are not closed; `closed` counts the rest. */
  circuits: { open: { tool: string; state: CircuitState }[]; closed: number }
}

/**
 * The success rate of states newest first, over the finished ones that say how the work went.
 *
 * @example
 *   successRate(['success', 'failure', 'cancelled', 'running']) // { judged: 2, rate: 0.5 }
 */
export function successRate(states: readonly JobState[]): HouseOverview['success'] {
  const judged = states.filter((s) => JUDGED.has(s))
  return {
    judged: judged.length,
    rate: judged.length === 0 ? undefined : judged.filter((s) => s === 'success').length / judged.length,
  }
}

/**
 * A house's learning velocity from its tools' (the intelligence's 7-day rolling rates, each
 * weighted by its runs).
 *
 * @example
 *   houseVelocity(summaries.filter((s) => s.house === 'ezra'))?.changePerWeek // 0.12
 */
export function houseVelocity(tools: readonly HouseToolSummary[]): HouseOverview['velocity'] {
  let ok = 0
  let runs = 0
  let okBefore = 0
  let runsBefore = 0
  for (const { velocity: v } of tools) {
    if (v.rate !== undefined) {
      ok += v.rate * v.runs
      runs += v.runs
    }
    if (v.previousRate !== undefined) {
      okBefore += v.previousRate * v.previousRuns
      runsBefore += v.previousRuns
    }
  }
  if (runs === 0 || runsBefore === 0) return undefined
  const rate = ok / runs
  const previousRate = okBefore / runsBefore
  return { rate, previousRate, changePerWeek: rate - previousRate }
}

/**
 * Everything the houses page shows for every configured house: heartbeats, queue depths, the
 * newest jobs' outcomes, predictions and learning velocity, today's tokens and the circuits.
 *
 * @example
 *   const houses = await readHouseOverview(redis, '{uw}', fleet)
 */
export async function readHouseOverview(
  redis: RedisClient,
  prefix: string,
  fleet: FleetSources,
): Promise<HouseOverview[]> {
  const [depths, learned] = await Promise.all([
    fleet.queues ? fleet.queues.depths().catch(() => undefined) : undefined,
    fleet.intelligence ? fleet.intelligence.overview() : [],
  ])
  return Promise.all(
    fleet.houses.map(async (house) => {
      const name = house.info.name
      const [workers, jobs, circuits, used] = await Promise.all([
        fleet.liveness(name),
        listJobs(redis, prefix, { house: name }, { limit: SUCCESS_WINDOW }),
        fleet.circuits(name),
        house.dailyTokenBudget === undefined ? undefined : fleet.tokensUsedToday(name),
      ])
      const predictions = learned
        .filter((s) => s.house === name)
        .sort((a, b) => Number(b.belowFloor) - Number(a.belowFloor) || a.tool.localeCompare(b.tool))
      const open = circuits.filter((c) => c.state !== 'closed')
      return {
        house,
        workers,
        queue: depths?.find((d) => d.queue === houseQueueName(name))?.counts,
        success: successRate(jobs.jobs.map((j) => j.state)),
        velocity: houseVelocity(predictions),
        predictions,
        budget:
          house.dailyTokenBudget !== undefined && used !== undefined
            ? { daily: house.dailyTokenBudget, used }
            : undefined,
        circuits: { open, closed: circuits.length - open.length },
      }
    }),
  )
}
