import { DAY_MS, type PatternStats } from './pattern-stats.js'

/** The rolling 7-day success rate now and a week earlier, and its change per week. */
export interface Velocity {
  /** Success rate of the last 7 days (today included); undefined without runs. */
  rate: number | undefined
  runs: number
  /** The same for the 7 days before those. */
  previousRate: number | undefined
  previousRuns: number
  /** `rate - previousRate` (success-rate points per week); undefined unless both weeks had runs. */
  changePerWeek: number | undefined
}

/**
 * The learning velocity of a house × tool from its per-day counts: how much the rolling 7-day
 * success rate moved in a week. Pure.
 *
 * @example
 *   velocity(stats.days, Date.now()).changePerWeek // 0.12: twelve points better than a week ago
 */
export function velocity(days: PatternStats['days'], now: number): Velocity {
  const today = Math.floor(now / DAY_MS)
  const sum = (from: number, to: number) => {
    let ok = 0
    let n = 0
    for (let d = from; d <= to; d++) {
      ok += days[d]?.ok ?? 0
      n += days[d]?.n ?? 0
    }
    return { rate: n > 0 ? ok / n : undefined, runs: n }
  }
  const now7 = sum(today - 6, today)
  const before = sum(today - 13, today - 7)
  return {
    rate: now7.rate,
    runs: now7.runs,
    previousRate: before.rate,
    previousRuns: before.runs,
    changePerWeek:
      now7.rate !== undefined && before.rate !== undefined
        ? Math.round((now7.rate - before.rate) * 1000) / 1000
        : undefined,
  }
}

/**
 * `+0.12/week`, `-0.05/week`, `n/a` (fewer than two weeks with runs).
 *
 * @example
 *   formatVelocity(v) // '+0.12/week (0.80 → 0.92)'
 */
export function formatVelocity(v: Velocity): string {
  if (v.changePerWeek === undefined) return 'n/a'
  const sign = v.changePerWeek > 0 ? '+' : v.changePerWeek < 0 ? '' : '±'
  return `${sign}${v.changePerWeek.toFixed(2)}/week (${v.previousRate!.toFixed(2)} → ${v.rate!.toFixed(2)})`
}
