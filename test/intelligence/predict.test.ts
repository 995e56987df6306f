import { describe, expect, it } from 'vitest'
import { seededRandom } from '../../src/triage/model/seeded-random.js'
import {
  adaptiveTimeout,
  addOutcome,
  argShape,
  betaCdf,
  betaQuantile,
  changeScore,
  chooseByPrediction,
  decayOf,
  DEFAULT_INTELLIGENCE,
  emptyStats,
  formatPrediction,
  formatVelocity,
  IntelligenceConfig,
  predictCall,
  predictFrom,
  retryAdvice,
  routingShares,
  velocity,
  type Outcome,
  type PatternStats,
  type Prediction,
} from '../../src/intelligence/index.js'

const HOUR = 3600_000
const DAY = 24 * HOUR
const config = DEFAULT_INTELLIGENCE
const halfLife = config.halfLifeHours * HOUR
const decay = decayOf(config)
const T0 = Date.parse('2026-03-02T12:00:00Z')

/** A record of `outcomes`, all at `at`. */
function stats(outcomes: Outcome[], at = T0): PatternStats {
  return outcomes.reduce((s, o) => addOutcome(s, o, at, decay), emptyStats(at))
}
const runs = (n: number, ok: (i: number) => boolean, ms: (i: number) => number = () => 100): Outcome[] =>
  Array.from({ length: n }, (_, i) => ({ ok: ok(i), durationMs: ms(i) }))

describe('Beta posterior', () => {
  it('matches known values', () => {
    expect(betaCdf(0.5, 2, 2)).toBeCloseTo(0.5, 10)
    expect(betaCdf(0.3, 1, 1)).toBeCloseTo(0.3, 10)
    expect(betaCdf(0.2, 2, 5)).toBeCloseTo(0.34464, 5)
    expect(betaQuantile(0.5, 2, 2)).toBeCloseTo(0.5, 8)
    expect(betaQuantile(0.95, 1, 1)).toBeCloseTo(0.95, 8)
  })
})

describe('argShape: names and coarse classes, never values', () => {
  it.each([
    [{}, '-'],
    [{ path: 'src/app.ts' }, 'path=path:file'],
    [{ path: 'docs/' }, 'path=path:dir'],
    [{ limit: '5', path: 'README.md' }, 'limit=int:small,path=path:file'],
    [{ limit: '5000' }, 'limit=int:large'],
    [{ url: 'https://example.com/health?token=abc' }, 'url=url'],
    [{ message: 'fix the thing' }, 'message=str:short'],
    [{ message: 'x'.repeat(33) }, 'message=str:long'],
    [{ ref: 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3' }, 'ref=str:hex'],
    [{ force: 'true' }, 'force=bool'],
    [{ dry: true, n: 2.5, list: ['a'] }, 'dry=bool,list=list:small,n=num'],
  ])('%j → %s', (args, shape) => {
    expect(argShape(args)).toBe(shape)
  })

  it('leaves no value in the shape', () => {
    const secret = 'ghp_SUPERSECRET_TOKEN_123'
    const shape = argShape({ token: secret, url: `https://u:${secret}@host/x`, path: `/tmp/${secret}.txt` })
    expect(shape).not.toContain('SUPERSECRET')
    expect(shape).toBe('path=path:file,token=str:short,url=url')
  })
})

describe('decayed counts', () => {
  it('halve after one half-life, and fade away', () => {
    const s = stats(runs(8, (i) => i < 6))
    const later = predictFrom(s, { now: T0 + halfLife, config })
    expect(later.samples).toBe(4)
    expect(later.successProbability).toBeCloseTo((1 + 3) / (2 + 4), 10)
    expect(predictFrom(s, { now: T0 + 20 * halfLife, config }).samples).toBe(0)
  })

  it('lets new behaviour outweigh old: a tool that broke last week predicts failure now', () => {
    let s = stats(runs(100, () => true))
    for (let i = 0; i < 30; i++)
      s = addOutcome(s, { ok: false, durationMs: 100, kind: 'network' }, T0 + 7 * DAY, decay)
    const p = predictFrom(s, { now: T0 + 7 * DAY, config })
    // 100 successes a week (2.33 half-lives) ago weigh about 20; 30 new failures weigh 30.
    expect(p.successProbability).toBeLessThan(0.45)
    expect(p.failures[0]).toEqual({ kind: 'network', weight: 30 })
  })

  it('counts refused and malformed calls as kinds, not runs', () => {
    const s = stats([
      { ok: false, durationMs: 1, kind: 'policy' },
      { ok: false, durationMs: 1, kind: 'validation' },
      { ok: true, durationMs: 10 },
    ])
    expect(s.ok + s.fail).toBe(1)
    expect(s.kinds).toEqual({ policy: 1, validation: 1 })
  })

  it('keeps only the last 15 days of per-day counts', () => {
    let s = emptyStats(T0)
    for (let d = 0; d < 40; d++) s = addOutcome(s, { ok: true, durationMs: 5 }, T0 + d * DAY, decay)
    expect(Object.keys(s.days)).toHaveLength(15)
  })
})

/** `days` of runs at `perDay`, succeeding with probability `rate(day)`, from `from`. */
function replayRuns(
  s: PatternStats,
  opts: {
    days: number
    perDay: number
    rate: (d: number) => number
    seed: number
    decay?: typeof decay
    from?: number
  },
): { stats: PatternStats; restarts: number[] } {
  const random = seededRandom(opts.seed)
  const restarts: number[] = []
  const from = opts.from ?? T0
  for (let i = 0; i < opts.days * opts.perDay; i++) {
    const at = from + (i * DAY) / opts.perDay
    s = addOutcome(s, { ok: random() < opts.rate(i / opts.perDay), durationMs: 5 }, at, opts.decay ?? decay)
    if (s.change?.at === at) restarts.push(i)
  }
  return { stats: s, restarts }
}

describe('the change detector', () => {
  it('restarts a record whose recent runs fall far below its history, and says so with the numbers', () => {
    // 16 runs a day: 10 days at 0.9, then a release breaks it (0.3).
    const perDay = 16
    const { stats: s, restarts } = replayRuns(emptyStats(T0), {
      days: 12,
      perDay,
      rate: (d) => (d < 10 ? 0.9 : 0.3),
      seed: 7,
    })
    expect(restarts.length).toBe(1)
    // Noticed within a day of the change (16 runs), not after the days decay alone would take.
    expect(restarts[0]! - 10 * perDay).toBeGreaterThan(0)
    expect(restarts[0]! - 10 * perDay).toBeLessThanOrEqual(perDay)
    expect(s.change!.before).toBeGreaterThan(0.8)
    const now = T0 + 12 * DAY
    const p = predictFrom(s, { now, config })
    expect(p.successProbability).toBeLessThan(0.45)
    expect(p.change).toEqual(s.change)
    expect(formatPrediction(p)).toMatch(
      /^likely to fail: success 0\.[0-4]\d .*; recent change: last [\d.]+ runs 0\.[0-4]\d vs 0\.[89]\d before$/,
    )
    expect(formatPrediction(p)).toContain(`last ${p.samples} runs ${p.successProbability.toFixed(2)} vs`)
    // Without the detector the same runs still predict the old behaviour.
    const off = decayOf(IntelligenceConfig.parse({ change: { enabled: false } }))
    const slow = replayRuns(emptyStats(T0), {
      days: 12,
      perDay,
      rate: (d) => (d < 10 ? 0.9 : 0.3),
      seed: 7,
      decay: off,
    })
    expect(slow.restarts).toEqual([])
    expect(predictFrom(slow.stats, { now, config }).successProbability).toBeGreaterThan(0.55)
    // The note is for people deciding now: after a half-life it is history.
    expect(predictFrom(s, { now: s.change!.at + halfLife + 1, config }).change).toBeUndefined()
  })

  it('restarts a record whose recent runs rise far above its history (a fixed house)', () => {
    const { stats: s, restarts } = replayRuns(emptyStats(T0), {
      days: 12,
      perDay: 48,
      rate: (d) => (d < 10 ? 0.1 : 0.95),
      seed: 3,
    })
    expect(restarts.length).toBe(1)
    expect(s.change!.before).toBeLessThan(0.2)
    // The restart keeps the recent (fast) counts, which still hold some runs from just before
    // the change, so it reads below the new 0.95 for a while; the decay alone is far behind.
    expect(predictFrom(s, { now: T0 + 12 * DAY, config }).successProbability).toBeGreaterThan(0.75)
    const off = decayOf(IntelligenceConfig.parse({ change: { enabled: false } }))
    const slow = replayRuns(emptyStats(T0), {
      days: 12,
      perDay: 48,
      rate: (d) => (d < 10 ? 0.1 : 0.95),
      seed: 3,
      decay: off,
    })
    expect(predictFrom(slow.stats, { now: T0 + 12 * DAY, config }).successProbability).toBeLessThan(0.6)
  })

  it.each([
    [0.6, 16, 1],
    [0.8, 16, 2],
    [0.95, 16, 3],
    [0.5, 48, 4],
    [0.8, 48, 5],
  ])(
    'does not restart a stable noisy record (rate %s, %s runs a day, seed %s), though a hair trigger would',
    (rate, perDay, seed) => {
      const stable = replayRuns(emptyStats(T0), { days: 30, perDay, rate: () => rate, seed })
      expect(stable.restarts).toEqual([])
      // The same runs judged at z = 1 restart over and over: the threshold is what holds it.
      const hair = decayOf(IntelligenceConfig.parse({ change: { z: 1 } }))
      expect(
        replayRuns(emptyStats(T0), { days: 30, perDay, rate: () => rate, seed, decay: hair }).restarts.length,
      ).toBeGreaterThan(2)
    },
  )

  it('never fires on a burst of runs at one moment: the older history has no weight yet', () => {
    const s = stats(runs(60, (i) => i < 30))
    expect(s.change).toBeUndefined()
    expect(changeScore(s).z).toBeCloseTo(0, 1)
  })

  it('scores the recent runs against the older ones, signed', () => {
    const base = { ...emptyStats(T0), ok: 45, fail: 5 }
    expect(changeScore({ ...base, fastOk: 1, fastFail: 9 }).z).toBeLessThan(-2.5)
    expect(changeScore({ ...base, fastOk: 9, fastFail: 1 }).z).toBeGreaterThan(-1)
    expect(changeScore({ ...base, fastOk: 9, fastFail: 1 }).z).toBeLessThan(1)
    expect(changeScore({ ...base, ok: 5, fail: 45, fastOk: 9, fastFail: 1 }).z).toBeGreaterThan(2.5)
  })

  it('is configured by change.fastHalfLifeHours (shorter than halfLifeHours) and change.z', () => {
    expect(decayOf(IntelligenceConfig.parse({}))).toEqual({
      halfLifeMs: 72 * HOUR,
      fastHalfLifeMs: 9 * HOUR,
      changeZ: 2.5,
    })
    expect(decayOf(IntelligenceConfig.parse({ halfLifeHours: 24, change: { z: 4 } }))).toMatchObject({
      fastHalfLifeMs: 3 * HOUR,
      changeZ: 4,
    })
    expect(
      IntelligenceConfig.safeParse({ halfLifeHours: 24, change: { fastHalfLifeHours: 24 } }).error?.issues[0],
    ).toMatchObject({
      path: ['change', 'fastHalfLifeHours'],
      message: 'change.fastHalfLifeHours must be shorter than halfLifeHours',
    })
    expect(decayOf(IntelligenceConfig.parse({ change: { enabled: false } })).changeZ).toBe(
      Number.POSITIVE_INFINITY,
    )
  })
})

describe('predictFrom', () => {
  it('has a uniform prior, a credible interval that narrows, and duration quantiles from the histogram', () => {
    const none = predictFrom(emptyStats(), { now: T0, config })
    expect(none).toMatchObject({ successProbability: 0.5, samples: 0, enough: false, medianMs: undefined })
    const s = stats(
      runs(
        40,
        (i) => i % 10 !== 0,
        (i) => 1000 + i * 50,
      ),
    )
    const p = predictFrom(s, { now: T0, config })
    expect(p.successProbability).toBeCloseTo(37 / 42, 10)
    expect(p.interval[0]).toBeLessThan(p.successProbability)
    expect(p.interval[1]).toBeGreaterThan(p.successProbability)
    expect(p.interval[1] - p.interval[0]).toBeLessThan(none.interval[1] - none.interval[0])
    // true median 1975 ms, p90 2950 ms; interpolated in log buckets of ratio 1.25
    expect(p.medianMs! / 1975).toBeGreaterThan(0.875)
    expect(p.medianMs! / 1975).toBeLessThan(1.125)
    expect(p.p90Ms! / 2950).toBeGreaterThan(0.875)
    expect(p.p90Ms! / 2950).toBeLessThan(1.125)
    expect(p.enough).toBe(true)
  })

  it('says "not enough history" below minSamples, and the numbers from it', () => {
    expect(formatPrediction(predictFrom(stats(runs(3, () => true)), { now: T0, config }))).toBe(
      'not enough history: 3 runs (10 needed)',
    )
    const p: Prediction = {
      successProbability: 0.93,
      interval: [0.812, 0.981],
      medianMs: 2100,
      p90Ms: 3400,
      samples: 41,
      enough: true,
      minSamples: 10,
      failures: [],
      basis: 'tool',
    }
    expect(formatPrediction(p)).toBe(
      'likely to succeed: 0.93 [0.81, 0.98] from 41 runs, usually 2.1 s (p90 3.4 s)',
    )
    expect(formatPrediction({ ...p, successProbability: 0.3, interval: [0.2, 0.4] })).toMatch(
      /^likely to fail: success 0\.30 \[0\.20, 0\.40\]/,
    )
  })

  it('uses the calls of the same argument shape when they are enough, else the whole tool', () => {
    const total = stats(runs(50, (i) => i < 25))
    const few = stats(runs(4, () => true))
    expect(predictCall({ total, shape: few }, { now: T0, config }).basis).toBe('tool')
    const many = stats(runs(20, () => true))
    const p = predictCall({ total, shape: many }, { now: T0, config })
    expect(p.basis).toBe('shape')
    expect(p.successProbability).toBeCloseTo(21 / 22, 10)
  })
})

describe('adaptiveTimeout', () => {
  const bounds = IntelligenceConfig.parse({ timeout: { factor: 1.5, minMs: 1000, maxMs: 20_000 } }).timeout
  const at = (ms: number, n = 20) =>
    predictFrom(
      stats(
        runs(
          n,
          () => true,
          () => ms,
        ),
      ),
      { now: T0, config },
    )

  it.each([
    ['1.5 × p90 (read from a bucket: up to 25% over)', at(2000), 30_000, [3000, 3750]],
    ['not below minMs', at(10), 30_000, [1000, 1000]],
    ['not above maxMs', at(60_000), 120_000, [20_000, 20_000]],
    ['not above the configured timeout', at(60_000), 5_000, [5_000, 5_000]],
  ] as const)('%s', (_, p, configured, [lo, hi]) => {
    const t = adaptiveTimeout(p, configured, bounds)!
    expect(t.timeoutMs).toBeGreaterThanOrEqual(lo)
    expect(t.timeoutMs).toBeLessThanOrEqual(hi)
    expect(t.why).toMatch(/^timeout .*: 1\.5 × p90 .* of 20 runs, within \[/)
  })

  it('is undefined with not enough history', () => {
    expect(adaptiveTimeout(at(2000, 9), 30_000, bounds)).toBeUndefined()
  })
})

describe('retryAdvice', () => {
  const retried = (recovered: number, failed: number) =>
    stats([
      ...Array.from({ length: recovered }, () => ({
        ok: true,
        durationMs: 5,
        retried: ['network' as const],
      })),
      ...Array.from({ length: failed }, () => ({
        ok: false,
        durationMs: 5,
        kind: 'network' as const,
        retried: ['network' as const],
      })),
    ])
  it.each([
    ['no record: retried', retried(0, 0), true],
    ['too few retries to judge: retried', retried(0, 2), true],
    ['retries recovered before: retried', retried(2, 3), true],
    ['retries never recovered: not retried', retried(0, 4), false],
  ])('%s', (_, s, retry) => {
    const a = retryAdvice(s, 'network', { now: T0, config })
    expect(a.retry).toBe(retry)
    if (!a.retry) expect(a.why).toBe('not retried: after a network failure, retries recovered 0 of 4 calls')
  })
})

describe('velocity', () => {
  it('is the change of the rolling 7-day success rate over a week', () => {
    let s = emptyStats(T0)
    // last week 5 of 10, this week 9 of 10
    for (let i = 0; i < 10; i++) s = addOutcome(s, { ok: i < 5, durationMs: 5 }, T0 - 8 * DAY, decay)
    for (let i = 0; i < 10; i++) s = addOutcome(s, { ok: i < 9, durationMs: 5 }, T0 - DAY, decay)
    const v = velocity(s.days, T0)
    expect(v).toEqual({ rate: 0.9, runs: 10, previousRate: 0.5, previousRuns: 10, changePerWeek: 0.4 })
    expect(formatVelocity(v)).toBe('+0.40/week (0.50 → 0.90)')
    expect(velocity({}, T0).changePerWeek).toBeUndefined()
    expect(formatVelocity(velocity({}, T0))).toBe('n/a')
  })
})

describe('chooseByPrediction (Thompson sampling, seeded by the job id)', () => {
  const p = (successProbability: number, samples: number, medianMs = 1000): Prediction => ({
    successProbability,
    interval: [successProbability - 0.1, successProbability + 0.05],
    medianMs,
    p90Ms: medianMs * 2,
    samples,
    enough: samples >= 10,
    minSamples: 10,
    failures: [],
    basis: 'tool',
  })
  const cands = (c: Record<string, Prediction>) =>
    Object.entries(c).map(([house, prediction]) => ({ house, prediction }))
  const JOBS = Array.from({ length: 300 }, (_, i) => `delivery-${i}:comment-7:0`)
  /** The share of JOBS each house gets. */
  const shareOf = (c: Record<string, Prediction>, house: string) =>
    JOBS.filter((j) => chooseByPrediction(cands(c), j)?.house === house).length / JOBS.length

  it.each<{ name: string; c: Record<string, Prediction>; house: string; reason: RegExp }>([
    {
      name: 'a house with no history is tried first, whatever the others’ records',
      c: { ezra: p(0.97, 200), bezalel: p(0.5, 0), allegro: p(0.5, 0) },
      house: 'bezalel',
      reason:
        /^by prediction: exploring bezalel \(no history yet: tried once before it is judged\); others: ezra 0\.97 .* from 200 runs, 1 s; allegro 0 of 10 runs$/,
    },
    {
      name: 'with no history anywhere, the order given (the default house first)',
      c: { ezra: p(0.5, 0), bezalel: p(0.5, 0) },
      house: 'ezra',
      reason: /exploring ezra/,
    },
  ])('$name', ({ c, house, reason }) => {
    for (const job of JOBS.slice(0, 20)) {
      const chosen = chooseByPrediction(cands(c), job)
      expect(chosen?.house).toBe(house)
      expect(chosen?.reason).toMatch(reason)
    }
  })

  it('is deterministic per job id (a redelivery routes the same way), and different jobs draw differently', () => {
    const c = { ezra: p(0.8, 12), bezalel: p(0.78, 15), allegro: p(0.7, 8) }
    const first = JOBS.map((j) => chooseByPrediction(cands(c), j))
    expect(JOBS.map((j) => chooseByPrediction(cands(c), j))).toEqual(first)
    // Near-equal thin records: every house gets some of the jobs.
    expect(new Set(first.map((x) => x?.house))).toEqual(new Set(['ezra', 'bezalel', 'allegro']))
  })

  it('explores a new house (not penalised for thin history), then exploits what it learned', () => {
    const best = p(0.8, 100)
    // Two runs, both fine: the posterior is wide, so it gets a fair share of jobs to prove itself.
    expect(shareOf({ ezra: best, allegro: p(0.75, 2) }, 'allegro')).toBeGreaterThan(0.2)
    // Judged on 60 runs: worse → it is left (almost) alone; better → it takes (almost) every job.
    expect(shareOf({ ezra: best, allegro: p(0.5, 60) }, 'allegro')).toBeLessThan(0.02)
    expect(shareOf({ ezra: best, allegro: p(0.95, 60) }, 'allegro')).toBeGreaterThan(0.95)
  })

  it('a clearly better house takes nearly every job, and the reason gives every house’s numbers and draw', () => {
    const c = { ezra: p(0.7, 30), bezalel: p(0.93, 41, 2100) }
    expect(shareOf(c, 'bezalel')).toBeGreaterThan(0.97)
    const chosen = chooseByPrediction(cands(c), JOBS[0]!)!
    expect(chosen.house).toBe('bezalel')
    expect(chosen.reason).toMatch(
      /^by prediction: bezalel 0\.93 \[0\.83, 0\.98\] from 41 runs, 2\.1 s, drew 0\.\d\d; before ezra 0\.70 \[0\.60, 0\.75\] from 30 runs, 1 s, drew 0\.\d\d$/,
    )
  })

  it('says "exploring" exactly when the draw picks a house whose record alone would not win', () => {
    const c = { ezra: p(0.85, 40), bezalel: p(0.75, 6) }
    const picks = JOBS.map((j) => chooseByPrediction(cands(c), j)!)
    const explored = picks.filter((x) => x.house === 'bezalel')
    expect(explored.length).toBeGreaterThan(0)
    for (const x of explored)
      expect(x.reason).toMatch(/^by prediction: exploring bezalel 6 of 10 runs, drew /)
    for (const x of picks.filter((y) => y.house === 'ezra')) expect(x.reason).not.toContain('exploring')
  })

  it.each<{ name: string; c: Record<string, Prediction>; house: string }>([
    {
      name: 'settles a tie in the draws by the shorter median duration',
      c: { ezra: p(0.9, 100_000, 5000), bezalel: p(0.9, 100_000, 800) },
      house: 'bezalel',
    },
    {
      name: 'settles a full tie by the order given',
      c: { ezra: p(0.9, 100_000), bezalel: p(0.9, 100_000) },
      house: 'ezra',
    },
  ])('$name', ({ c, house }) => {
    for (const job of JOBS.slice(0, 20)) expect(chooseByPrediction(cands(c), job)?.house).toBe(house)
  })

  it('routingShares: how often each house would be chosen, deterministic, summing to 1', () => {
    const c = cands({ ezra: p(0.7, 30), bezalel: p(0.93, 41) })
    const shares = routingShares(c)
    expect(shares.map((s) => s.house)).toEqual(['bezalel', 'ezra'])
    expect(shares.reduce((t, s) => t + s.share, 0)).toBeCloseTo(1, 10)
    expect(shares[0]!.share).toBeGreaterThan(0.97)
    expect(routingShares(c)).toEqual(shares)
  })

  it('chooses nothing from nothing', () => {
    expect(chooseByPrediction([], 'job')).toBeUndefined()
  })
})
