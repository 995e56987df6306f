import { chooseByPrediction } from '../intelligence/choose-house.js'
import type { IntelligenceView } from '../intelligence/intelligence-view.js'
import { formatPrediction } from '../intelligence/predict.js'
import type { JobMode } from '../effects/effects.js'
import type { HouseInfo } from './command-spec.js'

/**
 * The house a job goes to by prediction, among `candidates` (houses the policy allows, in the
 * order ties go: the default house first), and why in numbers; undefined when there is no view or
 * no candidate that learns. Only INTELLIGENT houses take part: the others keep no history, so
 * they would look unexplored forever (docs/INTELLIGENCE.md, "Routing").
 *
 * @example
 *   await routeByPrediction(ctx.intelligence, allowed, 'git_status')
 *   // { house: bezalel, reason: 'by prediction: bezalel 0.93 [0.81, 0.98] from 41 runs, 2.1 s; before ezra …' }
 */
export async function routeByPrediction(
  intelligence: IntelligenceView | undefined,
  candidates: readonly HouseInfo[],
  tool: string,
): Promise<{ house: HouseInfo; reason: string } | undefined> {
  if (!intelligence) return undefined
  const learning = candidates.filter((h) => h.defaultMode === 'INTELLIGENT')
  if (learning.length === 0) return undefined
  const predictions = await Promise.all(
    learning.map(async (h) => ({ house: h.name, prediction: await intelligence.predict(h.name, tool) })),
  )
  const chosen = chooseByPrediction(predictions)
  const house = learning.find((h) => h.name === chosen?.house)
  return chosen && house ? { house, reason: chosen.reason } : undefined
}

/**
 * The prediction an INTELLIGENT job's ack shows (`likely to succeed: 0.93 [0.81, 0.98] from 41
 * runs, usually 2.1 s (p90 3.4 s)`), for the call's argument shape; undefined in other modes or
 * without a view.
 */
export async function ackPrediction(
  intelligence: IntelligenceView | undefined,
  job: { house: string; tool: string; mode: JobMode; args?: Record<string, string> },
): Promise<string | undefined> {
  if (!intelligence || job.mode !== 'INTELLIGENT') return undefined
  return formatPrediction(await intelligence.predict(job.house, job.tool, job.args))
}
