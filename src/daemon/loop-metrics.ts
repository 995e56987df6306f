import type { Registry } from 'prom-client'
import { AGENT_TASK_KINDS, agentJobName } from '../agents/task-kind.js'
import type { Config } from '../config/index.js'
import { GITEA_ROUTES } from '../gitea/metered-port.js'
import { circuitStates } from '../harness/attempts/circuit-breaker.js'
import { resolveHouses } from '../houses/house-policy.js'
import { QueueDepths } from '../jobs/queue-depths.js'
import { registerMetrics, type UwMetrics } from '../metrics/index.js'
import type { RedisClient } from '../queue/connection.js'
import { EVENTS_QUEUE } from '../queue/events-producer.js'
import { houseQueueName, REPORTS_QUEUE } from '../queue/queue-names.js'
import { toolsFromConfig } from '../tools/tools-from-config.js'
import { liveness } from '../workers/heartbeat.js'
import { houseInfo } from '../workers/house-vocabulary.js'
import { TokenBudget } from '../workers/token-budget.js'

/** The process's metrics, and what reading them holds open. */
export interface LoopMetrics {
  metrics: UwMetrics
  /** The queue depths the metrics read (cached briefly); the dashboard's houses page reads them too. */
  queues: QueueDepths
  close(): Promise<void>
}

/**
 * Registers every loop metric on `registry` for this configuration, read through `connection`
 * (a producer connection: a scrape while Redis is away fails fast instead of waiting): the
 * configured houses, their queues, every house × tool circuit, the agent houses' budgets. The
 * same for every kind of process (serve, router-only, worker-only), so any of them can be scraped.
 *
 * @example
 *   const { metrics, close } = registerLoopMetrics(registry, { config, connection, prefix: '{uw}' })
 */
export function registerLoopMetrics(
  registry: Registry,
  opts: {
    config: Config
    connection: RedisClient
    prefix: string
    /** How long one reading of the queue depths is reused; default QueueDepths' 2 s. */
    queueCacheMs?: number
  },
): LoopMetrics {
  const { config, connection, prefix } = opts
  const policies = resolveHouses(config.file.houses)
  const houses = Object.keys(policies)
  const tools = toolsFromConfig(config.file.toolSettings)
  const circuits = houses.flatMap((house) =>
    houseInfo(policies[house]!, tools).allowedTools.map((tool) => ({ house, tool })),
  )
  const circuitKeys = circuits.map((c) => `${c.house}:${c.tool}`)
  const queues = new QueueDepths({
    connection,
    prefix,
    queues: [EVENTS_QUEUE, REPORTS_QUEUE, ...houses.map(houseQueueName)],
    ...(opts.queueCacheMs !== undefined && { cacheMs: opts.queueCacheMs }),
  })
  const metrics = registerMetrics(registry, {
    vocabulary: { houses, tools: [...tools.map((t) => t.name), ...AGENT_TASK_KINDS.map(agentJobName)] },
    workersAlive: async (house) => (await liveness(connection, prefix, house)).workers,
    queues,
    circuits: { circuits, states: () => circuitStates(connection, prefix, circuitKeys) },
    budgets: houses.flatMap((house) => {
      const daily = policies[house]!.agent?.limits.dailyTokenBudget
      if (daily === undefined) return []
      const budget = new TokenBudget(connection, prefix, house, daily)
      return [{ house, daily, left: () => budget.left() }]
    }),
    pingRedis: () => connection.ping(),
    giteaRoutes: Object.values(GITEA_ROUTES),
  })
  return { metrics, queues, close: () => queues.close() }
}
