import { AGENT_TASK_KINDS, agentJobName } from '../agents/task-kind.js'
import type { HouseInfo } from '../commands-core/command-spec.js'
import { circuitStates, type CircuitState } from '../harness/attempts/circuit-breaker.js'
import type { HousePolicy } from '../houses/house-policy.js'
import { RedisPatternStore } from '../intelligence/pattern-store.js'
import { predictFrom, type Prediction } from '../intelligence/predict.js'
import { listJobs } from '../jobs/job-listing.js'
import type { JobState } from '../jobs/jobs.js'
import type { QueueDepth, QueueDepthSource } from '../metrics/queue-metrics.js'
import type { RedisClient } from '../queue/connection.js'
import { houseQueueName } from '../queue/queue-names.js'
import type { ToolSpec } from '../tools/tool.js'
import { liveness } from '../workers/heartbeat.js'
import { houseInfo } from '../workers/house-vocabulary.js'
import { TokenBudget } from '../workers/token-budget.js'

/** What the houses page reads besides Redis: the resolved policies, the tools, the queue depths. */
export interface FleetSources {
  /** The configured houses' policies, in configuration order. */
  policies: Readonly<Record<string, HousePolicy>>
  tools: readonly ToolSpec[]
  /** The process's queue depths (shared with the metrics, cached briefly); absent: not shown. */
  queues?: QueueDepthSource
}

/** How many of a house's newest finished jobs its success rate is computed over. */
export const SUCCESS_WINDOW = 100

/** Finished states that say how the work went; `denied` and `cancelled` are people's decisions. */
const JUDGED: ReadonlySet<JobState> = new Set(['success', 'failure', 'unverified', 'timeout'])

/** One house as the houses page shows it. Nothing here is secret: the agent's key is left out. */
export interface HouseOverview {
  info: HouseInfo
  concurrency: number
  workers: { alive: boolean; count: number; lastSeen: string | undefined }
  queue: QueueDepth['counts'] | undefined
  /**
   * Success over the house's newest finished jobs (up to SUCCESS_WINDOW): `rate` of `judged`,
   * and `velocity`, the newer half's rate minus the older half's (what learning changed lately),
   * undefined with fewer than 4 judged jobs.
   */
  success: { judged: number; rate: number | undefined; velocity: number | undefined }
  /** INTELLIGENT mode's prediction per tool or task that has outcomes (the pattern store). */
  predictions: { tool: string; prediction: Prediction }[]
  /** Tools and tasks the house runs that have no outcomes yet. */
  unpredicted: number
  budget: { daily: number; used: number } | undefined
  /** Circuits of the house's tools that are not closed; `closed` counts the rest. */
  circuits: { open: { tool: string; state: CircuitState }[]; closed: number }
}

const rate = (states: readonly JobState[]) =>
  states.length === 0 ? undefined : states.filter((s) => s === 'success').length / states.length

/**
 * Success rate and its trend over states newest first: the rate of all of them, and the newer
 * half's rate minus the older half's.
 *
 * @example
 *   successTrend(['success', 'success', 'failure', 'failure']) // { judged: 4, rate: 0.5, velocity: 1 }
 */
export function successTrend(newestFirst: readonly JobState[]): HouseOverview['success'] {
  const judged = newestFirst.filter((s) => JUDGED.has(s))
  const half = Math.floor(judged.length / 2)
  const newer = rate(judged.slice(0, half))
  const older = rate(judged.slice(half))
  return {
    judged: judged.length,
    rate: rate(judged),
    velocity: judged.length >= 4 && newer !== undefined && older !== undefined ? newer - older : undefined,
  }
}

/**
 * Everything the houses page shows, read from Redis for every configured house: heartbeats,
 * queue depths, the newest jobs' outcomes, the pattern store's predictions, today's token budget
 * and the circuit breakers.
 *
 * @example
 *   const houses = await readHouseOverview(redis, '{uw}', { policies, tools, queues })
 */
export async function readHouseOverview(
  redis: RedisClient,
  prefix: string,
  fleet: FleetSources,
): Promise<HouseOverview[]> {
  const depths = fleet.queues ? await fleet.queues.depths().catch(() => undefined) : undefined
  const patterns = new RedisPatternStore(redis, prefix)
  return Promise.all(
    Object.values(fleet.policies).map(async (policy) => {
      const info = houseInfo(policy, fleet.tools)
      const house = policy.name
      const names = [
        ...info.allowedTools,
        ...(policy.agent ? AGENT_TASK_KINDS.map((k) => agentJobName(k)) : []),
      ]
      const [live, jobs, outcomes, states, used] = await Promise.all([
        liveness(redis, prefix, house),
        listJobs(redis, prefix, { house }, { limit: SUCCESS_WINDOW }),
        Promise.all(names.map((tool) => patterns.recent(house, tool))),
        circuitStates(
          redis,
          prefix,
          info.allowedTools.map((tool) => `${house}:${tool}`),
        ),
        policy.agent
          ? new TokenBudget(redis, prefix, house, policy.agent.limits.dailyTokenBudget).used()
          : undefined,
      ])
      const predictions = names.flatMap((tool, i) =>
        outcomes[i]!.length > 0 ? [{ tool, prediction: predictFrom(outcomes[i]!) }] : [],
      )
      const open = info.allowedTools.flatMap((tool, i) =>
        states[i] !== 'closed' ? [{ tool, state: states[i]! }] : [],
      )
      return {
        info,
        concurrency: policy.concurrency,
        workers: { alive: live.alive, count: live.workers, lastSeen: live.lastSeen },
        queue: depths?.find((d) => d.queue === houseQueueName(house))?.counts,
        success: successTrend(jobs.jobs.map((j) => j.state)),
        predictions,
        unpredicted: names.length - predictions.length,
        budget:
          policy.agent && used !== undefined
            ? { daily: policy.agent.limits.dailyTokenBudget, used }
            : undefined,
        circuits: { open, closed: info.allowedTools.length - open.length },
      }
    }),
  )
}
