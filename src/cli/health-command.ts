import { parseArgs } from 'node:util'
import { backendFor } from '../agents/backend-for.js'
import { checkHealth, formatHealth, type HealthReport } from '../health/check-health.js'
import { listInstances } from '../health/instance-registry.js'
import { resolveHouses } from '../houses/house-policy.js'
import { createRedis } from '../queue/connection.js'
import { liveness } from '../workers/heartbeat.js'
import { UsageError, type CliCommand } from './cli-command.js'
import { cliSetup, usage } from './cli-setup.js'

/** `uni-wizard health [target] [--json]`: the design's `check_health(target)`. */
export const healthCommand: CliCommand = {
  name: 'health',
  summary: 'check every instance and house (or one): exit 0 when healthy, 1 otherwise',
  usage: `usage: uni-wizard health [<instance id>|<house>] [--json] [--timeout-ms N] [--prefix <p>]

Checks what it can see through Redis (REDIS_URL; the prefix is UW_PREFIX, default {uw}):
- every instance registered in <prefix>:instances (each serve, worker and router process
  registers its health address every daemon.workers.heartbeatMs): its /health/details, i.e.
  Redis, Gitea and its houses' agent endpoints, each with latency and last error;
- every configured house: whether a worker's heartbeat is alive, and its agent endpoint (as the
  house's own worker checked it, else checked from here).
A house never seen (no worker ever ran) is listed but fails only when it is the target.
With a target: only that instance (its id, <host>:<pid>) or that house and its instances.

exit: 0 healthy, 1 unhealthy (or Redis unreachable, or no such target), 2 usage

examples:
  uni-wizard health
  uni-wizard health bezalel --json | jq .houses`,
  async run(argv) {
    const { values, positionals } = usage(() =>
      parseArgs({
        args: argv,
        allowPositionals: true,
        strict: true,
        options: {
          json: { type: 'boolean', default: false },
          'timeout-ms': { type: 'string' },
          prefix: { type: 'string' },
        },
      }),
    )
    if (positionals.length > 1) throw new UsageError(`one target at most (got "${positionals.join(' ')}")`)
    const timeoutMs = values['timeout-ms'] === undefined ? 3000 : Number(values['timeout-ms'])
    if (!Number.isInteger(timeoutMs) || timeoutMs < 100)
      throw new UsageError(`--timeout-ms takes a whole number of milliseconds, 100 or more`)
    const setup = cliSetup({ useRedis: false })
    const prefix = values.prefix ?? setup.config.env.UW_PREFIX
    const url = setup.config.env.REDIS_URL
    if (!url) {
      console.error('uni-wizard health: REDIS_URL is not set; instances and heartbeats are found in Redis')
      return 1
    }
    const redis = createRedis(url, 'producer', { enableOfflineQueue: true, connectionName: 'uw-health-cli' })
    const policies = resolveHouses(setup.config.file.houses)
    let report: HealthReport
    try {
      report = await checkHealth(
        {
          instances: () => listInstances(redis, prefix),
          houses: Object.values(policies).map((p) => ({ name: p.name, agent: p.agent !== undefined })),
          liveness: (house) => liveness(redis, prefix, house),
          agentHealth: async (house, signal) => {
            const answer = await backendFor(policies[house]!.agent!).health(signal)
            if (!answer.ok) throw new Error(answer.detail ?? 'not healthy')
          },
          timeoutMs,
        },
        positionals[0],
      )
    } catch (err) {
      console.error(`uni-wizard health: ${err instanceof Error ? err.message : String(err)}`)
      return 1
    } finally {
      redis.disconnect()
    }
    if (values.json) console.log(JSON.stringify(report, null, 2))
    else for (const line of formatHealth(report)) console.log(line)
    return report.healthy ? 0 : 1
  },
}
