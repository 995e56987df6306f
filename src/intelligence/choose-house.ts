import { formatDuration, type Prediction } from './predict.js'

/** A house routing may pick, with its prediction for the call. */
export interface HouseCandidate {
  house: string
  prediction: Prediction
}

const short = (c: HouseCandidate) => {
  const p = c.prediction
  if (!p.enough) return `${c.house} ${p.samples} of ${p.minSamples} runs`
  const time = p.medianMs === undefined ? '' : `, ${formatDuration(p.medianMs)}`
  return `${c.house} ${p.successProbability.toFixed(2)} [${p.interval[0].toFixed(2)}, ${p.interval[1].toFixed(2)}] from ${p.samples} runs${time}`
}

/** Predicted success probabilities closer than this are a tie, settled by duration. */
export const SUCCESS_TIE = 0.01

/**
 * Chooses among houses by prediction: explore, then exploit, deterministically.
 *
 * - A house with less history than the minimum is explored first (fewest effective runs first,
 *   then the order given: put the default house first), so a new house is tried, not penalised.
 * - Once every candidate has enough, the highest predicted success wins; within `SUCCESS_TIE`,
 *   the shorter median duration; then the order given.
 *
 * History decays, so a house that lost stops being judged once its runs fade below the minimum
 * and is explored again: that is how routing notices a house that got better. Pure.
 *
 * @example
 *   chooseByPrediction([{ house: 'ezra', prediction: p1 }, { house: 'bezalel', prediction: p2 }])
 *   // { house: 'bezalel', reason: 'by prediction: bezalel 0.93 [0.81, 0.98] from 41 runs, 2.1 s; before ezra 0.71 [...]' }
 */
export function chooseByPrediction(
  candidates: readonly HouseCandidate[],
): { house: string; reason: string } | undefined {
  if (candidates.length === 0) return undefined
  const order = new Map(candidates.map((c, i) => [c.house, i]))
  const explore = candidates
    .filter((c) => !c.prediction.enough)
    .sort((a, b) => a.prediction.samples - b.prediction.samples || order.get(a.house)! - order.get(b.house)!)
  const others = (chosen: HouseCandidate) =>
    candidates
      .filter((c) => c !== chosen)
      .map(short)
      .join('; ')
  const first = explore[0]
  if (first) {
    const rest = others(first)
    return {
      house: first.house,
      reason: `by prediction: exploring ${first.house} (${first.prediction.samples} of ${first.prediction.minSamples} runs needed before it is judged)${rest ? `; others: ${rest}` : ''}`,
    }
  }
  const best = [...candidates].sort((a, b) => {
    const pa = a.prediction
    const pb = b.prediction
    if (Math.abs(pa.successProbability - pb.successProbability) >= SUCCESS_TIE)
      return pb.successProbability - pa.successProbability
    const da = pa.medianMs ?? Number.POSITIVE_INFINITY
    const db = pb.medianMs ?? Number.POSITIVE_INFINITY
    return da - db || order.get(a.house)! - order.get(b.house)!
  })[0]!
  const rest = others(best)
  return {
    house: best.house,
    reason: `by prediction: ${short(best)}${rest ? `; before ${rest}` : ''}`,
  }
}
