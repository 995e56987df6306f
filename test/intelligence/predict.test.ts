import { describe, expect, it } from 'vitest'
import {
  adaptiveTimeout,
  addOutcome,
  argShape,
  betaCdf,
  betaQuantile,
  chooseByPrediction,
  DEFAULT_INTELLIGENCE,
  emptyStats,
  formatPrediction,
  formatVelocity,
  IntelligenceConfig,
  predictCall,
  predictFrom,
  retryAdvice,
  velocity,
  type Outcome,
  type PatternStats,
  type Prediction,
} from '../../src/intelligence/index.js'

const HOUR = 3600_000
const DAY = 24 * HOUR
const config = DEFAULT_INTELLIGENCE
const halfLife = config.halfLifeHours * HOUR
const T0 = Date.parse('2026-03-02T12:00:00Z')

/** A record of `outcomes`, all at `at`. */
function stats(outcomes: Outcome[], at = T0): PatternStats {
  return outcomes.reduce((s, o) => addOutcome(s, o, at, halfLife), emptyStats(at))
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
      s = addOutcome(s, { ok: false, durationMs: 100, kind: 'network' }, T0 + 7 * DAY, halfLife)
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
    for (let d = 0; d < 40; d++) s = addOutcome(s, { ok: true, durationMs: 5 }, T0 + d * DAY, halfLife)
    expect(Object.keys(s.days)).toHaveLength(15)
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
    for (let i = 0; i < 10; i++) s = addOutcome(s, { ok: i < 5, durationMs: 5 }, T0 - 8 * DAY, halfLife)
    for (let i = 0; i < 10; i++) s = addOutcome(s, { ok: i < 9, durationMs: 5 }, T0 - DAY, halfLife)
    const v = velocity(s.days, T0)
    expect(v).toEqual({ rate: 0.9, runs: 10, previousRate: 0.5, previousRuns: 10, changePerWeek: 0.4 })
    expect(formatVelocity(v)).toBe('+0.40/week (0.50 → 0.90)')
    expect(velocity({}, T0).changePerWeek).toBeUndefined()
    expect(formatVelocity(velocity({}, T0))).toBe('n/a')
  })
})

describe('chooseByPrediction', () => {
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
  it.each([
    {
      name: 'explores a house with too little history first, fewest runs first',
      cands: { ezra: p(0.9, 40), bezalel: p(0.5, 4), allegro: p(0.5, 2) },
      house: 'allegro',
      reason:
        /^by prediction: exploring allegro \(2 of 10 runs needed before it is judged\); others: ezra 0\.90/,
    },
    {
      name: 'explores in the order given on equal history (the default house first)',
      cands: { ezra: p(0.5, 0), bezalel: p(0.5, 0) },
      house: 'ezra',
      reason: /exploring ezra/,
    },
    {
      name: 'then exploits the best predicted success',
      cands: { ezra: p(0.7, 30), bezalel: p(0.93, 41, 2100) },
      house: 'bezalel',
      reason: /^by prediction: bezalel 0\.93 \[0\.83, 0\.98\] from 41 runs, 2\.1 s; before ezra 0\.70/,
    },
    {
      name: 'settles a tie in success by the shorter median duration',
      cands: { ezra: p(0.9, 30, 5000), bezalel: p(0.905, 30, 800) },
      house: 'bezalel',
      reason: /bezalel 0\.91/,
    },
    {
      name: 'settles a full tie by the order given',
      cands: { ezra: p(0.9, 30), bezalel: p(0.9, 30) },
      house: 'ezra',
      reason: /^by prediction: ezra/,
    },
  ])('$name', ({ cands, house, reason }) => {
    const c = chooseByPrediction(Object.entries(cands).map(([h, prediction]) => ({ house: h, prediction })))
    expect(c?.house).toBe(house)
    expect(c?.reason).toMatch(reason)
  })
  it('chooses nothing from nothing', () => {
    expect(chooseByPrediction([])).toBeUndefined()
  })
})
