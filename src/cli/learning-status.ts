import { resolveHouses } from '../houses/house-policy.js'
import type { Config } from '../config/index.js'
import { intelligenceFor } from '../intelligence/intelligence-for.js'
import type { RedisClient } from '../queue/connection.js'
import { formatVelocity } from '../intelligence/velocity.js'
import type { ToolSpec } from '../tools/tool.js'

/** One house × tool's learning for `telemetry --status`. */
export interface LearningRow {
  house: string
  tool: string
  successRate: number
  runs: number
  belowFloor: boolean
  /** Rolling 7-day success rate now and a week before, and the change per week. */
  rate: number | null
  previousRate: number | null
  changePerWeek: number | null
}

/**
 * The learning velocity section of `uni-wizard telemetry --status`: per house × tool, the
 * predicted success, the floor flag and the change of the rolling 7-day success rate per week.
 *
 * @example
 *   const rows = await learningStatus(redis, '{uw}', config, tools)
 */
export async function learningStatus(
  redis: RedisClient,
  prefix: string,
  config: Config,
  tools: readonly ToolSpec[],
): Promise<LearningRow[]> {
  const intel = intelligenceFor({
    redis,
    prefix,
    config: config.file.intelligence,
    policies: resolveHouses(config.file.houses),
    tools,
  })
  return (await intel.overview()).map((r) => ({
    house: r.house,
    tool: r.tool,
    successRate: Math.round(r.prediction.successProbability * 1000) / 1000,
    runs: r.prediction.samples,
    belowFloor: r.belowFloor,
    rate: r.velocity.rate ?? null,
    previousRate: r.velocity.previousRate ?? null,
    changePerWeek: r.velocity.changePerWeek ?? null,
  }))
}

/** The text lines of the section. */
export function learningLines(rows: readonly LearningRow[]): string[] {
  if (rows.length === 0) return ['learning: no history yet (INTELLIGENT houses learn from every run)']
  return [
    'learning (success per house and tool, change of the 7-day rate per week):',
    ...rows.map((r) => {
      const v = formatVelocity({
        rate: r.rate ?? undefined,
        runs: 0,
        previousRate: r.previousRate ?? undefined,
        previousRuns: 0,
        changePerWeek: r.changePerWeek ?? undefined,
      })
      return `  ${r.house} ${r.tool}: ${r.successRate.toFixed(2)} from ${r.runs} runs${r.belowFloor ? ' BELOW FLOOR' : ''}, velocity ${v}`
    }),
  ]
}
