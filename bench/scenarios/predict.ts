import { chooseByPrediction } from '../../src/intelligence/choose-house.js'
import { IntelligenceConfig } from '../../src/intelligence/intelligence-config.js'
import { MemoryPatternStore } from '../../src/intelligence/pattern-store.js'
import { predictCall } from '../../src/intelligence/predict.js'
import type { Round, Scenario } from '../scenario.js'

// A seeded replay of 30 days of jobs on 3 houses × 3 tools, one job every 10 minutes, whose true
// success rates and durations drift: the subject is the pattern store, its predictions and
// routing by prediction; the baselines are a global average success rate and "always the first
// allowed house", on the same jobs.

const HOUSES = ['ezra', 'bezalel', 'allegro'] as const
const TOOLS = ['git_status', 'deploy', 'http_get'] as const
const DAY = 86_400_000
const STEP = 10 * 60_000
const DAYS = 30
const config = IntelligenceConfig.parse({})
const halfLifeMs = config.halfLifeHours * 3600_000

function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The true success rate of a house × tool at day `d`: each tool has its own drift story. */
function truth(house: number, tool: number, d: number): { p: number; ms: number } {
  const ms = [300, 2000, 800][tool]! * (1 + 0.5 * house) * (1 + 0.3 * Math.sin(d / 5 + house))
  if (tool === 0) return { p: [0.95, 0.8, 0.6][house]!, ms } // stable
  if (tool === 1) {
    // the best house degrades on day 12, another improves on day 18
    const p = d < 12 ? [0.9, 0.7, 0.5] : d < 18 ? [0.55, 0.75, 0.5] : [0.55, 0.75, 0.93]
    return { p: p[house]!, ms }
  }
  // slow drift: ezra falls from 0.92 to 0.62 over the month, allegro rises from 0.6 to 0.9
  const p = [0.92 - 0.01 * d, 0.78, 0.6 + 0.01 * d][house]!
  return { p, ms }
}

interface Scores {
  brier: number
  calibration: number
  best: number
}

/** Expected calibration error: 10 equal-width bins of the predicted probability. */
function calibrationError(pairs: [number, number][]): number {
  const bins = Array.from({ length: 10 }, () => ({ p: 0, y: 0, n: 0 }))
  for (const [p, y] of pairs) {
    const b = bins[Math.min(9, Math.floor(p * 10))]!
    b.p += p
    b.y += y
    b.n += 1
  }
  return bins.reduce((e, b) => e + (b.n > 0 ? (b.n / pairs.length) * Math.abs(b.p / b.n - b.y / b.n) : 0), 0)
}

async function replay(seed: number): Promise<{ subject: Scores; baseline: Scores }> {
  const random = mulberry32(seed)
  const t0 = Date.parse('2026-01-01T00:00:00Z')
  let now = t0
  const store = new MemoryPatternStore(halfLifeMs, () => now)
  const runs = new Map<string, number>()
  let globalOk = 0
  let globalN = 0
  const subjectPairs: [number, number][] = []
  const globalPairs: [number, number][] = []
  let judged = 0
  let bestChosen = 0
  let firstBest = 0
  for (let step = 0; step < (DAYS * DAY) / STEP; step++) {
    now = t0 + step * STEP
    const d = (now - t0) / DAY
    const tool = Math.floor(random() * TOOLS.length)
    const reads = await Promise.all(HOUSES.map((house) => store.read({ house, tool: TOOLS[tool]! })))
    const predictions = reads.map((r) => predictCall(r, { now, config }))
    const choice = chooseByPrediction(HOUSES.map((house, i) => ({ house, prediction: predictions[i]! })))!
    const h = HOUSES.indexOf(choice.house as (typeof HOUSES)[number])
    const truths = HOUSES.map((_, i) => truth(i, tool, d))
    const bestTrue = truths.reduce((b, t, i) => (t.p > truths[b]!.p ? i : b), 0)
    if (HOUSES.every((house) => (runs.get(`${house} ${tool}`) ?? 0) >= 20)) {
      judged += 1
      if (h === bestTrue) bestChosen += 1
      if (bestTrue === 0) firstBest += 1
    }
    const { p, ms } = truths[h]!
    const ok = random() < p
    const durationMs = ms * Math.exp(0.3 * (random() + random() + random() - 1.5))
    const y = ok ? 1 : 0
    subjectPairs.push([predictions[h]!.successProbability, y])
    globalPairs.push([(globalOk + 1) / (globalN + 2), y])
    globalOk += y
    globalN += 1
    runs.set(`${choice.house} ${tool}`, (runs.get(`${choice.house} ${tool}`) ?? 0) + 1)
    await store.record(
      { house: choice.house, tool: TOOLS[tool]! },
      ok ? { ok, durationMs } : { ok, durationMs, kind: 'tool' },
      now,
    )
  }
  const brier = (pairs: [number, number][]) => pairs.reduce((s, [p, y]) => s + (p - y) ** 2, 0) / pairs.length
  return {
    subject: {
      brier: brier(subjectPairs),
      calibration: calibrationError(subjectPairs),
      best: bestChosen / judged,
    },
    baseline: {
      brier: brier(globalPairs),
      calibration: calibrationError(globalPairs),
      best: firstBest / judged,
    },
  }
}

export const predictScenario: Scenario = {
  name: 'predict',
  description:
    'Seeded replay of 30 days of jobs (one every 10 min) on 3 houses × 3 tools whose true success rates and ' +
    'durations drift (one stable, one where the best house degrades on day 12 and another becomes best on day ' +
    '18, one slow crossover): the pattern store (decayed counts, half-life 72 h), its predictions for the chosen ' +
    'house and routing by prediction choose every job. Baselines on the same jobs: the global average success ' +
    'rate as the prediction, and always the first allowed house as the choice.',
  async run({ rounds, progress }) {
    const results: Round[] = []
    for (let r = 0; r < rounds; r++) {
      const { subject, baseline } = await replay(1000 + r)
      progress(
        `round ${r + 1}: Brier ${subject.brier.toFixed(4)} vs ${baseline.brier.toFixed(4)}, calibration ${subject.calibration.toFixed(3)} vs ${baseline.calibration.toFixed(3)}, best house ${(subject.best * 100).toFixed(1)}% vs ${(baseline.best * 100).toFixed(1)}%`,
      )
      results.push({
        subject: {
          brier: subject.brier,
          brierRatio: subject.brier / baseline.brier,
          calibration: subject.calibration,
          bestHouse: subject.best,
        },
        baseline: {
          brier: baseline.brier,
          brierRatio: 1,
          calibration: baseline.calibration,
          bestHouse: baseline.best,
        },
      })
    }
    return {
      subject: 'pattern store predictions for the chosen house, routing by prediction',
      baseline: 'global average success rate; always the first allowed house',
      metrics: [
        { key: 'brier', label: 'Brier score', unit: '', better: 'lower' },
        { key: 'brierRatio', label: 'Brier / global-average Brier', unit: '×', better: 'lower' },
        { key: 'calibration', label: 'calibration error (10 bins)', unit: '', better: 'lower' },
        {
          key: 'bestHouse',
          label: 'truly best house chosen, once each has 20 runs',
          unit: 'share',
          better: 'higher',
        },
      ],
      rounds: results,
      targets: [
        {
          metric: 'brierRatio',
          kind: 'max',
          value: 0.8,
          description: 'Brier ≤ 0.8× the global-average baseline',
        },
        {
          metric: 'bestHouse',
          kind: 'min',
          value: 0.9,
          description: 'best house chosen ≥ 90% once each house has 20 runs',
        },
      ],
      settings: {
        days: DAYS,
        jobEveryMinutes: STEP / 60_000,
        houses: HOUSES.length,
        tools: TOOLS.length,
        halfLifeHours: config.halfLifeHours,
      },
    }
  },
}
