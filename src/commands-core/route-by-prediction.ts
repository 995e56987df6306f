import { chooseByPrediction, routingShares, type HouseCandidate } from '../intelligence/choose-house.js'
import type { IntelligenceView } from '../intelligence/intelligence-view.js'
import { formatPrediction } from '../intelligence/predict.js'
import type { JobMode } from '../effects/effects.js'
import type { HouseInfo } from './command-spec.js'

/**
 * The predictions of the INTELLIGENT houses among `candidates`, in their order; undefined when
 * there is no view or none learns. The others keep no history, so they would look unexplored
 * forever (docs/INTELLIGENCE.md, "Routing").
 */
async function learningCandidates(
  intelligence: IntelligenceView | undefined,
  candidates: readonly HouseInfo[],
  tool: string,
): Promise<{ learning: HouseInfo[]; predictions: HouseCandidate[] } | undefined> {
  if (!intelligence) return undefined
  const learning = candidates.filter((h) => h.defaultMode === 'INTELLIGENT')
  if (learning.length === 0) return undefined
  const predictions = await Promise.all(
    learning.map(async (h) => ({ house: h.name, prediction: await intelligence.predict(h.name, tool) })),
  )
  return { learning, predictions }
}

/**
 * The house job `jobId` goes to by prediction, among `candidates` (houses the policy allows, in
 * the order ties go: the default house first), and why in numbers; undefined when there is no
 * view or no candidate that learns. Deterministic per job id: a redelivered event draws the same.
 *
 * @example
 *   await routeByPrediction(ctx.intelligence, allowed, 'git_status', ctx.jobId)
 *   // { house: bezalel, reason: 'by prediction: bezalel 0.93 [0.81, 0.98] from 41 runs, 2.1 s, drew 0.95; before ezra …' }
 */
export async function routeByPrediction(
  intelligence: IntelligenceView | undefined,
  candidates: readonly HouseInfo[],
  tool: string,
  jobId: string,
): Promise<{ house: HouseInfo; reason: string } | undefined> {
  const c = await learningCandidates(intelligence, candidates, tool)
  if (!c) return undefined
  const chosen = chooseByPrediction(c.predictions, jobId)
  const house = c.learning.find((h) => h.name === chosen?.house)
  return chosen && house ? { house, reason: chosen.reason } : undefined
}

/**
 * Where jobs without `@house` would go, as shares of jobs (each job draws its own house), for
 * `/predict`; undefined like `routeByPrediction`.
 *
 * @example
 *   await routingSharesFor(ctx.intelligence, allowed, 'git_status')
 *   // [{ house: 'bezalel', share: 0.96 }, { house: 'ezra', share: 0.04 }]
 */
export async function routingSharesFor(
  intelligence: IntelligenceView | undefined,
  candidates: readonly HouseInfo[],
  tool: string,
): Promise<{ house: string; share: number }[] | undefined> {
  const c = await learningCandidates(intelligence, candidates, tool)
  return c ? routingShares(c.predictions) : undefined
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
