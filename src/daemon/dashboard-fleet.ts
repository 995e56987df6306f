import type { Config } from '../config/index.js'
import type { FleetSources } from '../dashboard/house-overview.js'
import { circuitStates } from '../harness/attempts/circuit-breaker.js'
import { resolveHouses } from '../houses/house-policy.js'
import { intelligenceFor } from '../intelligence/intelligence-for.js'
import type { QueueDepthSource } from '../metrics/queue-metrics.js'
import type { RedisClient } from '../queue/connection.js'
import { toolsFromConfig } from '../tools/tools-from-config.js'
import { liveness } from '../workers/heartbeat.js'
import { houseInfo } from '../workers/house-vocabulary.js'
import { TokenBudget } from '../workers/token-budget.js'

/**
 * The dashboard's houses page sources for this configuration, read through `connection`: the
 * same readers `/houses` and the metrics use (heartbeats, token budgets, the breakers' stored
 * state, the pattern store), wired here so the dashboard never imports the workers or the harness.
 *
 * @example
 *   const fleet = dashboardFleet({ config, connection, prefix: '{uw}', queues: metered.queues })
 */
export function dashboardFleet(opts: {
  config: Config
  connection: RedisClient
  prefix: string
  queues?: QueueDepthSource
}): FleetSources {
  const { config, connection, prefix } = opts
  const policies = resolveHouses(config.file.houses)
  const tools = toolsFromConfig(config.file.toolSettings)
  const houses = Object.values(policies).map((policy) => ({
    info: houseInfo(policy, tools),
    concurrency: policy.concurrency,
    dailyTokenBudget: policy.agent?.limits.dailyTokenBudget,
  }))
  const byName = new Map(houses.map((h) => [h.info.name, h]))
  return {
    houses,
    liveness: (house) => liveness(connection, prefix, house),
    tokensUsedToday: (house) => new TokenBudget(connection, prefix, house, 0).used(),
    async circuits(house) {
      const allowed = byName.get(house)?.info.allowedTools ?? []
      const states = await circuitStates(
        connection,
        prefix,
        allowed.map((tool) => `${house}:${tool}`),
      )
      return allowed.map((tool, i) => ({ tool, state: states[i]! }))
    },
    intelligence: intelligenceFor({
      redis: connection,
      prefix,
      config: config.file.intelligence,
      policies,
      tools,
    }),
    ...(opts.queues && { queues: opts.queues }),
  }
}
