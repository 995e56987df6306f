import { betaQuantile } from './beta-quantile.js'
import type { Outcome } from './pattern-store.js'

/** What INTELLIGENT mode expects of a call before running it. */
export interface Prediction {
  /** Posterior mean of the success rate, Beta(1 + successes, 1 + failures). */
  successProbability: number
  /** 90% equal-tailed credible interval of the success rate. */
  interval: [number, number]
  /** Median duration of past runs; undefined with no samples. */
  expectedDurationMs: number | undefined
  /** 95th percentile duration; undefined with no samples. */
  p95DurationMs: number | undefined
  samples: number
}

/** Samples needed before the observed durations set the timeout. */
export const ADAPTIVE_MIN_SAMPLES = 10

function quantile(sorted: number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[i]
}

/**
 * Predicts a call from past outcomes, with a uniform Beta(1, 1) prior so no data means p = 0.5
 * with a wide interval.
 *
 * @example
 *   predictFrom([{ ok: true, durationMs: 12 }]).successProbability // 0.667
 */
export function predictFrom(outcomes: readonly Outcome[]): Prediction {
  const successes = outcomes.filter((o) => o.ok).length
  const failures = outcomes.length - successes
  const a = 1 + successes
  const b = 1 + failures
  const durations = outcomes.map((o) => o.durationMs).sort((x, y) => x - y)
  return {
    successProbability: a / (a + b),
    interval: [betaQuantile(0.05, a, b), betaQuantile(0.95, a, b)],
    expectedDurationMs: quantile(durations, 0.5),
    p95DurationMs: quantile(durations, 0.95),
    samples: outcomes.length,
  }
}

/**
 * The adaptive per-attempt timeout: 1.5 × the observed p95 duration, clamped to
 * [min(1 s, configured), configured]. It only ever shortens the configured timeout, so a tool that
 * is usually fast fails fast when it hangs. Undefined below ADAPTIVE_MIN_SAMPLES.
 */
export function adaptiveTimeout(prediction: Prediction, configuredMs: number): number | undefined {
  if (prediction.samples < ADAPTIVE_MIN_SAMPLES || prediction.p95DurationMs === undefined) return undefined
  const floor = Math.min(1000, configuredMs)
  return Math.round(Math.min(configuredMs, Math.max(floor, prediction.p95DurationMs * 1.5)))
}
