import { isFailureKind, type FailureKind } from './failure-kind.js'

/** One finished call (or task), as the pattern store learns it. */
export interface Outcome {
  ok: boolean
  durationMs: number
  /**
   * Why it failed. `policy` and `validation` are counted as kinds only: a refused or malformed
   * call says nothing of how well the house runs the tool, so it is not a run.
   */
  kind?: FailureKind
  /** Failure kinds retried during the call; `ok` says whether the retries recovered. */
  retried?: readonly FailureKind[]
}

/** Retries after one failure kind: how often they recovered the call (decayed counts). */
export interface RetryRecord {
  recovered: number
  failed: number
}

/**
 * What the store keeps per house × tool × argument shape: exponentially decayed counts as of `at`
 * (ms), a duration histogram in log buckets, failure kinds and retry records; and, per house ×
 * tool, plain per-day counts of the last `DAYS_KEPT` days for the learning velocity.
 */
export interface PatternStats {
  at: number
  ok: number
  fail: number
  /**
   * The same outcomes decayed with the much shorter fast half-life: what the change detector
   * compares with the rest of the record (`changeScore`).
   */
  fastOk: number
  fastFail: number
  /**
   * When the change detector last restarted `ok`/`fail` from the fast counts, and the success
   * rate of the history it set aside (posterior mean): for "recent change: ... vs 0.88 before".
   */
  change?: { at: number; before: number }
  /** Decayed count per duration bucket (see `durationBucket`). */
  durations: Record<number, number>
  kinds: Partial<Record<FailureKind, number>>
  retries: Partial<Record<FailureKind, RetryRecord>>
  /** UTC day number (ms / 86,400,000) → runs and successes that day; not decayed. */
  days: Record<number, { ok: number; n: number }>
}

/** Per-day counts kept: two rolling weeks and today. */
export const DAYS_KEPT = 15
export const DAY_MS = 86_400_000
/** Duration buckets grow by this factor: a quantile read from them is off by less than one bucket (25%). */
export const BUCKET_RATIO = 1.25
const MAX_BUCKET = 110
/**
 * The change detector judges only when the recent (fast) counts weigh this many runs: one or two
 * runs after a quiet spell are no evidence of a change, however far from the record they fall.
 */
export const CHANGE_MIN_RECENT = 4
/** Counts that decayed below this are dropped, so a key holds only what still weighs. */
export const NEGLIGIBLE = 1e-4

/**
 * How a record fades, and when it restarts (`decayOf(config)` from the `intelligence:` config).
 *
 * @example
 *   const decay: Decay = { halfLifeMs: 72 * 3600_000, fastHalfLifeMs: 9 * 3600_000, changeZ: 2.5 }
 */
export interface Decay {
  /** An outcome weighs half as much this much later (`ok`, `fail`, durations, kinds, retries). */
  halfLifeMs: number
  /** The fast counts' half-life; at most `halfLifeMs`. */
  fastHalfLifeMs: number
  /** The record restarts when |`changeScore`| exceeds this; `Infinity`: never. */
  changeZ: number
}

/** The empty record. */
export function emptyStats(at = 0): PatternStats {
  return { at, ok: 0, fail: 0, fastOk: 0, fastFail: 0, durations: {}, kinds: {}, retries: {}, days: {} }
}

/**
 * The histogram bucket of a duration: bucket i holds [1.25^i, 1.25^(i+1)) ms.
 *
 * @example
 *   durationBucket(1) // 0
 *   durationBucket(1000) // 30
 */
export function durationBucket(ms: number): number {
  if (!(ms > 1)) return 0
  return Math.min(MAX_BUCKET, Math.floor(Math.log(ms) / Math.log(BUCKET_RATIO)))
}

/** The weight left of an outcome `elapsedMs` old. */
export function decayFactor(elapsedMs: number, halfLifeMs: number): number {
  return elapsedMs <= 0 ? 1 : 0.5 ** (elapsedMs / halfLifeMs)
}

function scaleRecord<K extends string | number>(
  r: Partial<Record<K, number>>,
  f: number,
): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {}
  for (const [k, v] of Object.entries(r) as [K, number][]) if (v * f >= NEGLIGIBLE) out[k] = v * f
  return out
}

const kept = (v: number) => (v >= NEGLIGIBLE ? v : 0)

/**
 * The record as it weighs at `now`: every count but the per-day ones times 2^(-elapsed/half-life)
 * (the fast counts with the fast half-life). Pure; a clock that went backwards decays nothing.
 */
export function decayTo(stats: PatternStats, now: number, decay: Decay): PatternStats {
  const f = decayFactor(now - stats.at, decay.halfLifeMs)
  const fast = decayFactor(now - stats.at, decay.fastHalfLifeMs)
  const retries: Partial<Record<FailureKind, RetryRecord>> = {}
  for (const [k, r] of Object.entries(stats.retries) as [FailureKind, RetryRecord][])
    if ((r.recovered + r.failed) * f >= NEGLIGIBLE)
      retries[k] = { recovered: r.recovered * f, failed: r.failed * f }
  return {
    at: Math.max(now, stats.at),
    ok: stats.ok * f,
    fail: stats.fail * f,
    fastOk: kept(stats.fastOk * fast),
    fastFail: kept(stats.fastFail * fast),
    ...(stats.change ? { change: stats.change } : {}),
    durations: scaleRecord(stats.durations, f) as Record<number, number>,
    kinds: scaleRecord(stats.kinds, f),
    retries,
    days: stats.days,
  }
}

/** Whether an outcome is a run (counted in the success rate), not only a counted kind. */
export function isRun(o: Outcome): boolean {
  return o.ok || (o.kind !== 'policy' && o.kind !== 'validation')
}

const betaMoments = (ok: number, fail: number) => {
  const a = 1 + ok
  const n = a + 1 + fail
  return { mean: a / n, variance: (a * (n - a)) / (n * n * (n + 1)) }
}

/**
 * The change detector: how many standard deviations the recent success rate (the fast counts)
 * lies from the rest of the record (the decayed counts minus the fast ones: every outcome weighs
 * 2^(-age/half-life) − 2^(-age/fast half-life) ≥ 0 there, so it is the older history, and the two
 * share no weight at age 0). Each side is a Beta(1 + successes, 1 + failures) posterior on its
 * decayed counts; z = (mean_recent − mean_older) / √(var_recent + var_older). Counting decayed
 * weights as runs overstates each side's variance (an exponentially weighted mean of n weight
 * varies like one of about 2n runs), so the test is conservative: a stable noisy record seldom
 * crosses the default 2.5 (about 1 restart in 50-100 months of a steady record), and a few recent
 * runs rarely can (their posterior is wide); `addOutcome` also waits for `CHANGE_MIN_RECENT`. Pure.
 *
 * @example
 *   changeScore({ ...emptyStats(), ok: 50, fail: 15, fastOk: 2, fastFail: 8 }).z // -4.7: 2 of 10 lately, 48 of 55 before
 */
export function changeScore(s: PatternStats): { z: number; recent: number; before: number } {
  const recent = betaMoments(s.fastOk, s.fastFail)
  const older = betaMoments(Math.max(0, s.ok - s.fastOk), Math.max(0, s.fail - s.fastFail))
  return {
    z: (recent.mean - older.mean) / Math.sqrt(recent.variance + older.variance),
    recent: recent.mean,
    before: older.mean,
  }
}

/**
 * The record after one more outcome at `now` (what the Redis script does, in memory). When the
 * recent outcomes disagree with the older history beyond `decay.changeZ`, the record restarts:
 * `ok`/`fail` become the fast counts, so predictions and routing stop averaging over a house
 * that is no longer there, and the restart is noted in `change`. Pure.
 *
 * @example
 *   addOutcome(emptyStats(), { ok: true, durationMs: 40 }, Date.now(), decay).ok // 1
 */
export function addOutcome(
  stats: PatternStats,
  o: Outcome,
  now: number,
  decay: Decay,
  withDays = true,
): PatternStats {
  const s = decayTo(stats, now, decay)
  if (!o.ok && o.kind) s.kinds[o.kind] = (s.kinds[o.kind] ?? 0) + 1
  if (!isRun(o)) return s
  if (o.ok) {
    s.ok += 1
    s.fastOk += 1
  } else {
    s.fail += 1
    s.fastFail += 1
  }
  const score = changeScore(s)
  if (s.fastOk + s.fastFail >= CHANGE_MIN_RECENT && Math.abs(score.z) > decay.changeZ) {
    s.ok = s.fastOk
    s.fail = s.fastFail
    s.change = { at: now, before: score.before }
  }
  const b = durationBucket(o.durationMs)
  s.durations[b] = (s.durations[b] ?? 0) + 1
  for (const k of new Set(o.retried ?? [])) {
    const r = s.retries[k] ?? { recovered: 0, failed: 0 }
    s.retries[k] = o.ok ? { ...r, recovered: r.recovered + 1 } : { ...r, failed: r.failed + 1 }
  }
  if (withDays) {
    const today = Math.floor(now / DAY_MS)
    const days: PatternStats['days'] = {}
    for (const [d, c] of Object.entries(s.days)) if (Number(d) > today - DAYS_KEPT) days[Number(d)] = c
    const c = days[today] ?? { ok: 0, n: 0 }
    days[today] = { ok: c.ok + (o.ok ? 1 : 0), n: c.n + 1 }
    s.days = days
  }
  return s
}

/**
 * Reads the Redis hash of a record (fields `t`, `s`, `f`, `fs`, `ff`, `c` = `<ms>:<rate before>`,
 * `d:<bucket>`, `k:<kind>`, `r:<kind>:1|0`, `day:<n>:s|n`). A record written before the change
 * detector has no `fs`, `ff`, `c`: its fast counts start at nothing. Unknown or malformed fields are skipped: the hash is written by
 * processes of other versions.
 */
export function statsFromHash(hash: Record<string, string>): PatternStats {
  const num = (v: string | undefined) => {
    const n = Number(v)
    return Number.isFinite(n) && n >= 0 ? n : 0
  }
  const s = emptyStats(num(hash.t))
  s.ok = num(hash.s)
  s.fail = num(hash.f)
  s.fastOk = num(hash.fs)
  s.fastFail = num(hash.ff)
  const [changedAt, before] = (hash.c ?? '').split(':').map((v) => (v === '' ? NaN : Number(v)))
  if (Number.isInteger(changedAt) && changedAt! > 0 && before! >= 0 && before! <= 1)
    s.change = { at: changedAt!, before: before! }
  for (const [field, value] of Object.entries(hash)) {
    const [tag, a, b] = field.split(':')
    if (tag === 'd' && /^\d+$/.test(a ?? '')) s.durations[Number(a)] = num(value)
    else if (tag === 'k' && a && isFailureKind(a)) s.kinds[a] = num(value)
    else if (tag === 'r' && a && isFailureKind(a) && (b === '1' || b === '0')) {
      const r = s.retries[a] ?? { recovered: 0, failed: 0 }
      if (b === '1') r.recovered = num(value)
      else r.failed = num(value)
      s.retries[a] = r
    } else if (tag === 'day' && /^\d+$/.test(a ?? '') && (b === 's' || b === 'n')) {
      const d = Number(a)
      const c = s.days[d] ?? { ok: 0, n: 0 }
      if (b === 's') c.ok = num(value)
      else c.n = num(value)
      s.days[d] = c
    }
  }
  return s
}
