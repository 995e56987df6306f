import { parseArgs } from 'node:util'
import { AGENT_TASK_KINDS, agentJobName, agentTaskOf } from '../agents/task-kind.js'
import { checkToolAllowed } from '../harness/policy-check.js'
import { resolveHouses } from '../houses/house-policy.js'
import { intelligenceFor } from '../intelligence/intelligence-for.js'
import type { PredictionDetail } from '../intelligence/intelligence-view.js'
import { formatDuration, formatPrediction } from '../intelligence/predict.js'
import { formatVelocity } from '../intelligence/velocity.js'
import { createRedis } from '../queue/connection.js'
import { UsageError, type CliCommand } from './cli-command.js'
import { cliSetup, usage } from './cli-setup.js'

/** The lines `predict` prints for one house. */
export function formatDetail(d: PredictionDetail, floor: number): string[] {
  const retries = d.retries.map((r) =>
    r.advice.retry ? `${r.kind}: retried (retries recovered before)` : r.advice.why,
  )
  return [
    `${d.house} · ${d.tool}${d.shape !== '*' ? ` · arguments ${d.shape}` : ''}`,
    `  prediction: ${formatPrediction(d.prediction)}${d.prediction.basis === 'shape' ? ' (same argument shape)' : ''}`,
    `  failures: ${d.prediction.failures.map((f) => `${f.kind} ${f.weight}`).join(', ') || 'none'}`,
    `  timeout: ${d.timeout ? d.timeout.why : d.configuredTimeoutMs !== undefined ? `${formatDuration(d.configuredTimeoutMs)} as configured` : 'as configured'}`,
    `  retries: ${retries.join('; ') || 'transient failures retried as configured'}`,
    `  floor: ${d.belowFloor ? `BELOW ${floor}` : d.prediction.enough ? `ok (${floor})` : 'not enough history'}`,
    `  velocity: ${formatVelocity(d.velocity)}`,
  ]
}

/** `uni-wizard predict --tool <tool> [--house <h>]`: what the pattern store expects (docs/INTELLIGENCE.md). */
export const predictCommand: CliCommand = {
  name: 'predict',
  summary: 'show the predicted success, duration and adaptations of a tool or task per house',
  usage: `usage: uni-wizard predict --tool <tool|task> [--house <h>] [--arg key=value ...] [--json] [--prefix <p>]

Reads the pattern store in Redis (REDIS_URL; the prefix is UW_PREFIX, default {uw}, or --prefix)
and prints, for the house given or each house whose policy allows the tool: the chance of success
with its 90% credible interval and the (decayed) runs behind it, the usual and p90 duration,
failures by kind, the timeout INTELLIGENT mode would use, which failure kinds it still retries,
whether the house is below intelligence.successFloor, and the learning velocity. A task is
ask, implement or review (or agent.<task>). --arg narrows to calls of the same argument shape.

exit: 0 ok, 1 failure (no REDIS_URL, Redis away), 2 usage

examples:
  uni-wizard predict --tool deploy --house bezalel
  uni-wizard predict --tool file_read --arg path=README.md --json
  uni-wizard predict --tool ask`,
  async run(argv) {
    const { values } = usage(() =>
      parseArgs({
        args: argv,
        strict: true,
        options: {
          tool: { type: 'string' },
          house: { type: 'string' },
          arg: { type: 'string', multiple: true },
          json: { type: 'boolean', default: false },
          prefix: { type: 'string' },
        },
      }),
    )
    if (!values.tool) throw new UsageError('--tool is required (a tool name, or ask, implement, review)')
    const args: Record<string, string> = {}
    for (const a of values.arg ?? []) {
      const eq = a.indexOf('=')
      if (eq < 1) throw new UsageError(`--arg ${JSON.stringify(a)}: expected key=value`)
      args[a.slice(0, eq)] = a.slice(eq + 1)
    }
    const setup = cliSetup({ useRedis: false })
    const policies = resolveHouses(setup.config.file.houses)
    const what = values.tool.toLowerCase()
    const task = agentTaskOf(what) ?? AGENT_TASK_KINDS.find((k) => k === what)
    const spec = setup.tools.find((t) => t.name === what)
    if (!task && !spec) throw new UsageError(`unknown tool or task ${JSON.stringify(values.tool)}`)
    const job = task ? agentJobName(task) : what
    const able = Object.values(policies).filter((p) =>
      task ? p.agent !== undefined : checkToolAllowed(p, spec!) === undefined,
    )
    let houses = able.map((p) => p.name)
    if (values.house !== undefined) {
      if (!policies[values.house])
        throw new UsageError(
          `unknown house ${JSON.stringify(values.house)} (known: ${Object.keys(policies).join(', ')})`,
        )
      houses = [values.house]
    }
    const url = setup.config.env.REDIS_URL
    if (!url) {
      console.error('uni-wizard predict: REDIS_URL is not set; the pattern store lives in Redis')
      return 1
    }
    const redis = createRedis(url, 'producer', { enableOfflineQueue: true, connectionName: 'uw-predict-cli' })
    try {
      const intel = intelligenceFor({
        redis,
        prefix: values.prefix ?? setup.config.env.UW_PREFIX,
        config: setup.config.file.intelligence,
        policies,
        tools: setup.tools,
      })
      const details = await Promise.all(
        houses.map((h) => intel.detail(h, job, Object.keys(args).length > 0 ? args : undefined)),
      )
      if (values.json) {
        console.log(JSON.stringify({ tool: job, settings: intel.settings, houses: details }, null, 2))
        return 0
      }
      if (details.length === 0) console.log(`no house may run ${job}`)
      for (const d of details) console.log(formatDetail(d, intel.settings.successFloor).join('\n'))
      return 0
    } finally {
      redis.disconnect()
    }
  },
}
