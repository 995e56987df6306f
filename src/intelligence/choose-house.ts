import { createHash } from 'node:crypto'
import { betaQuantile } from './beta-quantile.js'
import { formatDuration, type Prediction } from './predict.js'

/** A house routing may pick, with its prediction for the call. */
export interface HouseCandidate {
  house: string
  prediction: Prediction
}

/** The chosen house and why, in words with the numbers (for the ack). */
export interface ChosenHouse {
  house: string
  reason: string
}

/** Sampled success rates closer than this are a tie, settled by duration. */
export const SUCCESS_TIE = 0.01

/**
 * A uniform number in (0, 1) fixed by `seed` and `house`: the same job draws the same numbers on
 * every delivery, and each house its own.
 */
export function seededUniform(seed: string, house: string): number {
  const digest = createHash('sha256').update(seed).update('\0').update(house).digest()
  return (digest.readUInt32BE(0) + 0.5) / 2 ** 32
}

/**
 * The Beta posterior a prediction is the mean of: Beta(1 + decayed successes, 1 + decayed
 * failures), read back from its mean and effective runs (`samples`, rounded to 0.1 run: a draw
 * moves by far less than the 0.01 shown).
 */
function posterior(p: Prediction): [number, number] {
  const total = p.samples + 2
  return [p.successProbability * total, (1 - p.successProbability) * total]
}

const short = (c: HouseCandidate) => {
  const p = c.prediction
  if (!p.enough) return `${c.house} ${p.samples} of ${p.minSamples} runs`
  const time = p.medianMs === undefined ? '' : `, ${formatDuration(p.medianMs)}`
  return `${c.house} ${p.successProbability.toFixed(2)} [${p.interval[0].toFixed(2)}, ${p.interval[1].toFixed(2)}] from ${p.samples} runs${time}`
}

/**
 * Chooses among houses by prediction (Thompson sampling), deterministically for a given `seed`
 * (the job id, so a redelivered event routes the same way on the same history).
 *
 * - A house with no history at all is tried first (in the order given: put the default house
 *   first), so a new house is never judged before it ran once.
 * - Otherwise each house draws a success rate from its posterior, Beta(1 + decayed successes,
 *   1 + decayed failures), at a quantile fixed by the seed and its name; the highest draw wins,
 *   within `SUCCESS_TIE` the shorter median duration, then the order given. A house with little
 *   history has a wide posterior, so it is explored (not penalised) until its history says what
 *   it is worth; a house clearly worse than the best is drawn above it less and less often, in
 *   proportion to how unsure the record still is, not at a fixed rate. Pure.
 *
 * @example
 *   chooseByPrediction([{ house: 'ezra', prediction: p1 }, { house: 'bezalel', prediction: p2 }], 'job-42')
 *   // { house: 'bezalel', reason: 'by prediction: bezalel 0.93 [0.81, 0.98] from 41 runs, 2.1 s, drew 0.95; before ezra 0.71 [...] from 30 runs, drew 0.69' }
 */
export function chooseByPrediction(
  candidates: readonly HouseCandidate[],
  seed: string,
): ChosenHouse | undefined {
  if (candidates.length === 0) return undefined
  const order = new Map(candidates.map((c, i) => [c.house, i]))
  const fresh = candidates.find((c) => c.prediction.samples === 0)
  if (fresh) {
    const rest = candidates
      .filter((c) => c !== fresh)
      .map(short)
      .join('; ')
    return {
      house: fresh.house,
      reason: `by prediction: exploring ${fresh.house} (no history yet: tried once before it is judged)${rest ? `; others: ${rest}` : ''}`,
    }
  }
  const drawn = candidates.map((c) => {
    const [a, b] = posterior(c.prediction)
    return { ...c, draw: betaQuantile(seededUniform(seed, c.house), a, b) }
  })
  const top = Math.max(...drawn.map((d) => d.draw))
  const chosen = drawn
    .filter((d) => top - d.draw < SUCCESS_TIE)
    .sort((x, y) => {
      const dx = x.prediction.medianMs ?? Number.POSITIVE_INFINITY
      const dy = y.prediction.medianMs ?? Number.POSITIVE_INFINITY
      return dx - dy || order.get(x.house)! - order.get(y.house)!
    })[0]!
  const bestMean = Math.max(...candidates.map((c) => c.prediction.successProbability))
  // Exploring: the draw went to a house whose record alone would not win (or is still thin).
  const exploring = !chosen.prediction.enough || chosen.prediction.successProbability < bestMean - SUCCESS_TIE
  const describe = (d: (typeof drawn)[number]) => `${short(d)}, drew ${d.draw.toFixed(2)}`
  const rest = drawn
    .filter((d) => d !== chosen)
    .sort((x, y) => y.draw - x.draw)
    .map(describe)
    .join('; ')
  return {
    house: chosen.house,
    reason: `by prediction: ${exploring ? 'exploring ' : ''}${describe(chosen)}${rest ? `; before ${rest}` : ''}`,
  }
}

/**
 * How often each house would be chosen, over `jobs` job seeds: what `/predict` shows for routing,
 * since each job draws its own house. Deterministic.
 *
 * @example
 *   routingShares(candidates) // [{ house: 'bezalel', share: 0.96 }, { house: 'ezra', share: 0.04 }]
 */
export function routingShares(
  candidates: readonly HouseCandidate[],
  jobs = 400,
): { house: string; share: number }[] {
  const counts = new Map(candidates.map((c) => [c.house, 0]))
  for (let i = 0; i < jobs; i++) {
    const chosen = chooseByPrediction(candidates, `share:${i}`)
    if (chosen) counts.set(chosen.house, counts.get(chosen.house)! + 1)
  }
  return [...counts]
    .map(([house, n]) => ({ house, share: n / jobs }))
    .filter((s) => s.share > 0)
    .sort((a, b) => b.share - a.share)
}
