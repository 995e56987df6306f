import { betaQuantile } from './beta-quantile.js'
import type { FailureKind } from './failure-kind.js'
import { decayOf, type IntelligenceConfig } from './intelligence-config.js'
import { BUCKET_RATIO, decayTo, type PatternStats } from './pattern-stats.js'

/** What INTELLIGENT mode, `/predict` and routing expect of a call before running it. */
export interface Prediction {
  /** Posterior mean of the success rate: Beta(1 + decayed successes, 1 + decayed failures). */
  successProbability: number
  /** 90% equal-tailed credible interval of the success rate. */
  interval: [number, number]
  /** Median and 90th percentile duration of the decayed runs; undefined with none. */
  medianMs: number | undefined
  p90Ms: number | undefined
  /** Effective runs behind it (decayed counts, one decimal). */
  samples: number
  /** Whether `samples` reaches the configured minimum; below, it is "not enough history". */
  enough: boolean
  minSamples: number
  /** Failure kinds by decayed weight, heaviest first. */
  failures: { kind: FailureKind; weight: number }[]
  /** `shape`: from calls with the same argument shape; `tool`: from every call of the tool on the house. */
  basis: 'shape' | 'tool'
  /**
   * Set when the change detector restarted the record within the last half-life: the prediction
   * is from the runs since (`samples`), and this is the success rate of the history set aside.
   */
  change?: { at: number; before: number }
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits

/** The q-quantile of a log-bucket histogram, interpolated geometrically inside its bucket. */
export function histogramQuantile(buckets: Record<number, number>, q: number): number | undefined {
  const entries = Object.entries(buckets)
    .map(([b, c]) => [Number(b), c] as const)
    .filter(([, c]) => c > 0)
    .sort((a, b) => a[0] - b[0])
  const total = entries.reduce((s, [, c]) => s + c, 0)
  if (total <= 0) return undefined
  const target = q * total
  let cum = 0
  for (const [b, c] of entries) {
    if (cum + c >= target) {
      const frac = Math.min(1, Math.max(0, (target - cum) / c))
      return BUCKET_RATIO ** (b + frac)
    }
    cum += c
  }
  const last = entries[entries.length - 1]![0]
  return BUCKET_RATIO ** (last + 1)
}

/**
 * Predicts from a record decayed to `now`. Pure.
 *
 * @example
 *   predictFrom(stats, { now: Date.now(), config }).successProbability // 0.93
 */
export function predictFrom(
  stats: PatternStats,
  opts: { now: number; config: IntelligenceConfig; basis?: Prediction['basis'] },
): Prediction {
  const decay = decayOf(opts.config)
  const s = decayTo(stats, opts.now, decay)
  const a = 1 + s.ok
  const b = 1 + s.fail
  const samples = round(s.ok + s.fail, 1)
  const median = histogramQuantile(s.durations, 0.5)
  const p90 = histogramQuantile(s.durations, 0.9)
  return {
    successProbability: a / (a + b),
    interval: [betaQuantile(0.05, a, b), betaQuantile(0.95, a, b)],
    medianMs: median === undefined ? undefined : round(median, 1),
    p90Ms: p90 === undefined ? undefined : round(p90, 1),
    samples,
    enough: samples >= opts.config.minSamples,
    minSamples: opts.config.minSamples,
    failures: (Object.entries(s.kinds) as [FailureKind, number][])
      .filter(([, w]) => w >= 0.05)
      .sort((x, y) => y[1] - x[1])
      .map(([kind, weight]) => ({ kind, weight: round(weight, 1) })),
    basis: opts.basis ?? 'tool',
    ...(s.change && opts.now - s.change.at < decay.halfLifeMs ? { change: s.change } : {}),
  }
}

/**
 * The prediction for a call: from the calls of the same argument shape when they are enough, else
 * from every call of the tool on the house.
 */
export function predictCall(
  read: { total: PatternStats; shape?: PatternStats },
  opts: { now: number; config: IntelligenceConfig },
): Prediction {
  if (read.shape) {
    const byShape = predictFrom(read.shape, { ...opts, basis: 'shape' })
    if (byShape.enough) return byShape
  }
  return predictFrom(read.total, { ...opts, basis: 'tool' })
}

/**
 * A duration for people: `412 ms`, `2.1 s`, `3.5 min`.
 *
 * @example
 *   formatDuration(2_140) // '2.1 s'
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${round(ms / 1000, ms < 10_000 ? 1 : 0)} s`
  return `${round(ms / 60_000, 1)} min`
}

const runs = (n: number) => `${n} run${n === 1 ? '' : 's'}`
const p2 = (n: number) => n.toFixed(2)

/**
 * One line for an ack, `/predict` or the CLI; after a restart of the record by the change
 * detector, it says so with the numbers on both sides.
 *
 * @example
 *   formatPrediction(p) // 'likely to succeed: 0.93 [0.81, 0.98] from 41 runs, usually 2.1 s (p90 3.4 s)'
 *   formatPrediction(few) // 'not enough history: 3 runs (10 needed)'
 *   formatPrediction(changed) // 'likely to fail: success 0.40 [...] from 12 runs, usually 2.1 s; recent change: last 12 runs 0.40 vs 0.88 before'
 */
export function formatPrediction(p: Prediction): string {
  const change = p.change
    ? `; recent change: last ${runs(p.samples)} ${p2(p.successProbability)} vs ${p2(p.change.before)} before`
    : ''
  if (!p.enough) return `not enough history: ${runs(p.samples)} (${p.minSamples} needed)${change}`
  const odds = `${p2(p.successProbability)} [${p2(p.interval[0])}, ${p2(p.interval[1])}] from ${runs(p.samples)}`
  const head = p.successProbability >= 0.5 ? `likely to succeed: ${odds}` : `likely to fail: success ${odds}`
  const time =
    p.medianMs === undefined
      ? ''
      : `, usually ${formatDuration(p.medianMs)}${p.p90Ms !== undefined ? ` (p90 ${formatDuration(p.p90Ms)})` : ''}`
  return `${head}${time}${change}`
}

/** An adapted timeout and why. */
export interface AdaptedTimeout {
  timeoutMs: number
  why: string
}

/**
 * INTELLIGENT mode's per-attempt timeout: `factor` × the observed p90 duration, bounded by
 * `timeout.minMs` and the smaller of `timeout.maxMs` and the tool's configured timeout. Undefined
 * with not enough history.
 *
 * @example
 *   adaptiveTimeout(p, 30_000, config.timeout) // { timeoutMs: 3150, why: 'timeout 3.2 s: 1.5 × p90 2.1 s of 41 runs, within [1 s, 30 s]' }
 */
export function adaptiveTimeout(
  p: Prediction,
  configuredMs: number,
  bounds: IntelligenceConfig['timeout'],
): AdaptedTimeout | undefined {
  if (!p.enough || p.p90Ms === undefined) return undefined
  const upper = Math.min(bounds.maxMs, configuredMs)
  const lower = Math.min(bounds.minMs, upper)
  const timeoutMs = Math.round(Math.min(upper, Math.max(lower, p.p90Ms * bounds.factor)))
  return {
    timeoutMs,
    why: `timeout ${formatDuration(timeoutMs)}: ${bounds.factor} × p90 ${formatDuration(p.p90Ms)} of ${runs(p.samples)}, within [${formatDuration(lower)}, ${formatDuration(upper)}]`,
  }
}

/** Whether INTELLIGENT mode retries a failure kind, and why not. */
export type RetryAdvice = { retry: true } | { retry: false; why: string }

/**
 * A transient failure kind is retried until its record says retries do not help: after at least
 * `retry.minSamples` (decayed) retries, those that recovered the call must be `minRecoveryRate`
 * of them or more.
 *
 * @example
 *   retryAdvice(stats, 'network', { now, config }) // { retry: false, why: 'not retried: after a network failure, retries recovered 0 of 4 calls' }
 */
export function retryAdvice(
  stats: PatternStats,
  kind: FailureKind,
  opts: { now: number; config: IntelligenceConfig },
): RetryAdvice {
  const r = decayTo(stats, opts.now, decayOf(opts.config)).retries[kind]
  // Rounded like `samples`, so three retries a moment ago still count as three.
  const n = r ? round(r.recovered + r.failed, 1) : 0
  if (!r || n < opts.config.retry.minSamples) return { retry: true }
  if (r.recovered / n >= opts.config.retry.minRecoveryRate) return { retry: true }
  return {
    retry: false,
    why: `not retried: after a ${kind} failure, retries recovered ${round(r.recovered, 1)} of ${round(n, 1)} calls`,
  }
}
