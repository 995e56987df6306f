import { chooseByPrediction } from '../../src/intelligence/choose-house.js'
import { IntelligenceConfig } from '../../src/intelligence/intelligence-config.js'
import { MemoryPatternStore } from '../../src/intelligence/pattern-store.js'
import { predictCall } from '../../src/intelligence/predict.js'
import type { Round, Scenario } from '../scenario.js'

// A seeded replay of 30 days of jobs on 3 houses × 3 tools, one job every 10 minutes, whose true
// success rates drift gradually (one tool's best house slowly becomes its worst while its worst
// becomes its best) and change abruptly once (day 15: a release breaks `deploy` on the best house and fixes
// it on the worst). Two streams, each replayed on its own store:
// - named: the requester names the house, spread evenly: it scores the predictions (Brier,
//   calibration) where the global average is the fair baseline, since every house is asked;
// - routed: no house named, routing by prediction chooses: it scores the choice ("best house")
//   and, for the record, the predictions for the chosen houses.
// Baselines on the same jobs: the global average success rate (predictions); always the first
// allowed house and a random house (choice). The true rates' own Brier (an oracle) shows how much
// better than the baseline any predictor could be on this workload.

const HOUSES = ['ezra', 'bezalel', 'allegro'] as const
const TOOLS = ['git_status', 'deploy', 'http_get'] as const
const DAY = 86_400_000
const STEP = 10 * 60_000
const DAYS = 30
const CHANGE_DAY = 15
/** A choice within this of the best true rate is a near-tie, not a mistake. */
const EPSILON = 0.02
/** "Best house" is judged once every house has this many runs of the tool. */
const JUDGED_AFTER = 20
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

/** The true success rate and typical duration of a house × tool at day `d`. */
function truth(house: number, tool: number, d: number): { p: number; ms: number } {
  const ms = [300, 2000, 800][tool]! * (1 + 0.5 * house) * (1 + 0.3 * Math.sin(d / 5 + house))
  const p =
    tool === 0
      ? [0.95, 0.8, 0.6][house]! // stable
      : tool === 1
        ? // deploy: the abrupt change
          (d < CHANGE_DAY ? [0.9, 0.7, 0.5] : [0.55, 0.7, 0.92])[house]!
        : // http_get, gradual drift: ezra slowly degrades (0.92 → 0.62), allegro slowly improves (0.6 → 0.9)
          [0.92 - 0.01 * d, 0.78, 0.6 + 0.01 * d][house]!
  return { p, ms }
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

const brier = (pairs: [number, number][]) => pairs.reduce((s, [p, y]) => s + (p - y) ** 2, 0) / pairs.length

interface PredictionScores {
  brier: number
  calibration: number
  globalBrier: number
  globalCalibration: number
  oracleBrier: number
}

interface ChoiceScores {
  /** Share of judged jobs on a house within EPSILON of the best / exactly the best. */
  subject: { near: number; strict: number }
  first: { near: number; strict: number }
  random: { near: number; strict: number }
  judged: number
  /** Per tool: judged jobs and those on a house within EPSILON of the best. */
  perTool: { judged: number; near: number }[]
}

/** One stream: every job's house is named (spread evenly) or chosen by routing. */
async function replay(
  seed: number,
  stream: 'named' | 'routed',
): Promise<{ predictions: PredictionScores; choice: ChoiceScores }> {
  const random = mulberry32(seed)
  const t0 = Date.parse('2026-01-01T00:00:00Z')
  let now = t0
  const store = new MemoryPatternStore(halfLifeMs, () => now)
  const runs = new Map<string, number>()
  let globalOk = 0
  let globalN = 0
  const subjectPairs: [number, number][] = []
  const globalPairs: [number, number][] = []
  const oraclePairs: [number, number][] = []
  const choice: ChoiceScores = {
    subject: { near: 0, strict: 0 },
    first: { near: 0, strict: 0 },
    random: { near: 0, strict: 0 },
    judged: 0,
    perTool: TOOLS.map(() => ({ judged: 0, near: 0 })),
  }
  for (let step = 0; step < (DAYS * DAY) / STEP; step++) {
    now = t0 + step * STEP
    const d = (now - t0) / DAY
    const tool = Math.floor(random() * TOOLS.length)
    const named = Math.floor(random() * HOUSES.length)
    const reads = await Promise.all(HOUSES.map((house) => store.read({ house, tool: TOOLS[tool]! })))
    const predictions = reads.map((r) => predictCall(r, { now, config }))
    const h =
      stream === 'named'
        ? named
        : HOUSES.indexOf(
            chooseByPrediction(
              HOUSES.map((house, i) => ({ house, prediction: predictions[i]! })),
              `job-${seed}-${step}`,
            )!.house as (typeof HOUSES)[number],
          )
    const truths = HOUSES.map((_, i) => truth(i, tool, d).p)
    const best = Math.max(...truths)
    if (stream === 'routed' && HOUSES.every((house) => (runs.get(`${house} ${tool}`) ?? 0) >= JUDGED_AFTER)) {
      const near = (i: number) => (truths[i]! >= best - EPSILON ? 1 : 0)
      const strict = (i: number) => (truths[i] === best ? 1 : 0)
      choice.judged += 1
      choice.subject.near += near(h)
      choice.perTool[tool]!.judged += 1
      choice.perTool[tool]!.near += near(h)
      choice.subject.strict += strict(h)
      choice.first.near += near(0)
      choice.first.strict += strict(0)
      // A random house: the expected share, exactly.
      choice.random.near += HOUSES.reduce((s, _, i) => s + near(i), 0) / HOUSES.length
      choice.random.strict += HOUSES.reduce((s, _, i) => s + strict(i), 0) / HOUSES.length
    }
    const { p, ms } = truth(h, tool, d)
    const ok = random() < p
    const durationMs = ms * Math.exp(0.3 * (random() + random() + random() - 1.5))
    const y = ok ? 1 : 0
    subjectPairs.push([predictions[h]!.successProbability, y])
    globalPairs.push([(globalOk + 1) / (globalN + 2), y])
    oraclePairs.push([p, y])
    globalOk += y
    globalN += 1
    runs.set(`${HOUSES[h]} ${tool}`, (runs.get(`${HOUSES[h]} ${tool}`) ?? 0) + 1)
    await store.record(
      { house: HOUSES[h]!, tool: TOOLS[tool]! },
      ok ? { ok, durationMs } : { ok, durationMs, kind: 'tool' },
      now,
    )
  }
  const share = (x: { near: number; strict: number }) => ({
    near: x.near / choice.judged,
    strict: x.strict / choice.judged,
  })
  return {
    predictions: {
      brier: brier(subjectPairs),
      calibration: calibrationError(subjectPairs),
      globalBrier: brier(globalPairs),
      globalCalibration: calibrationError(globalPairs),
      oracleBrier: brier(oraclePairs),
    },
    choice: {
      subject: share(choice.subject),
      first: share(choice.first),
      random: share(choice.random),
      judged: choice.judged,
      perTool: choice.perTool,
    },
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const pct = (x: number) => `${(x * 100).toFixed(1)}%`

export const predictScenario: Scenario = {
  name: 'predict',
  description:
    'Seeded replay of 30 days of jobs (one every 10 min) on 3 houses × 3 tools whose true success rates are ' +
    'stable (one tool), drift slowly (one crossover) or change abruptly once (day 15: deploy breaks on the best ' +
    'house and is fixed on the worst), through the pattern store (decayed counts, half-life 72 h). Two streams on ' +
    'their own stores: "named" (the requester names a house, spread evenly) scores the predictions; "routed" ' +
    '(routing by prediction, Thompson sampling seeded by the job id) scores the choice. Baselines on the same ' +
    'jobs: the global average success rate (predictions); always the first house, and a random house (choice).',
  async run({ rounds, progress }) {
    const results: Round[] = []
    const choices: ChoiceScores[] = []
    for (let r = 0; r < rounds; r++) {
      const seed = 1000 + r
      const named = (await replay(seed, 'named')).predictions
      const routed = await replay(seed, 'routed')
      const c = routed.choice
      choices.push(c)
      progress(
        `round ${r + 1}: named Brier ${named.brier.toFixed(4)} vs global ${named.globalBrier.toFixed(4)} ` +
          `(${(named.brier / named.globalBrier).toFixed(2)}×; oracle ${(named.oracleBrier / named.globalBrier).toFixed(2)}×), ` +
          `routed ${(routed.predictions.brier / routed.predictions.globalBrier).toFixed(2)}×; best house ` +
          `${pct(c.subject.near)} (strict ${pct(c.subject.strict)}) vs first ${pct(c.first.near)}, random ${pct(c.random.near)}, ` +
          `${c.judged} jobs judged`,
      )
      results.push({
        subject: {
          brierNamed: named.brier,
          brierRatioNamed: named.brier / named.globalBrier,
          oracleRatioNamed: named.oracleBrier / named.globalBrier,
          calibrationNamed: named.calibration,
          brierRouted: routed.predictions.brier,
          brierRatioRouted: routed.predictions.brier / routed.predictions.globalBrier,
          calibrationRouted: routed.predictions.calibration,
          bestHouse: c.subject.near,
          bestHouseStrict: c.subject.strict,
        },
        baseline: {
          brierNamed: named.globalBrier,
          brierRatioNamed: 1,
          oracleRatioNamed: 1,
          calibrationNamed: named.globalCalibration,
          brierRouted: routed.predictions.globalBrier,
          brierRatioRouted: 1,
          calibrationRouted: routed.predictions.globalCalibration,
          bestHouse: c.first.near,
          bestHouseStrict: c.first.strict,
        },
      })
    }
    const med = (pick: (c: ChoiceScores) => number) => pct(median(choices.map(pick)))
    // How much of what any predictor could gain over the global average (down to the true rates'
    // own Brier) the pattern store gains, per round.
    const attained = median(
      results.map(
        (r) =>
          (r.baseline.brierNamed! - r.subject.brierNamed!) /
          (r.baseline.brierNamed! - r.subject.oracleRatioNamed! * r.baseline.brierNamed!),
      ),
    )
    return {
      subject: 'pattern store predictions; routing by prediction (Thompson sampling per job)',
      baseline: 'global average success rate (predictions); always the first house (choice)',
      metrics: [
        { key: 'brierNamed', label: 'Brier score, named stream', unit: '', better: 'lower' },
        { key: 'brierRatioNamed', label: 'Brier / global-average Brier, named', unit: '×', better: 'lower' },
        {
          key: 'oracleRatioNamed',
          label: 'true rates’ Brier / global-average Brier, named (the floor)',
          unit: '×',
          better: 'lower',
        },
        { key: 'calibrationNamed', label: 'calibration error (10 bins), named', unit: '', better: 'lower' },
        { key: 'brierRouted', label: 'Brier score, routed stream', unit: '', better: 'lower' },
        {
          key: 'brierRatioRouted',
          label: 'Brier / global-average Brier, routed',
          unit: '×',
          better: 'lower',
        },
        { key: 'calibrationRouted', label: 'calibration error (10 bins), routed', unit: '', better: 'lower' },
        {
          key: 'bestHouse',
          label: `best house chosen (within ${EPSILON} of the best true rate), once each has ${JUDGED_AFTER} runs`,
          unit: 'share',
          better: 'higher',
        },
        {
          key: 'bestHouseStrict',
          label: 'best house chosen, strictly the best',
          unit: 'share',
          better: 'higher',
        },
      ],
      rounds: results,
      targets: [
        {
          metric: 'brierRatioNamed',
          kind: 'max',
          value: 0.8,
          description: 'Brier ≤ 0.8× the global-average baseline (named-house stream)',
        },
        {
          metric: 'bestHouse',
          kind: 'min',
          value: 0.9,
          description: `best house (within ${EPSILON}) chosen ≥ 90% once each house has ${JUDGED_AFTER} runs`,
        },
      ],
      settings: {
        days: DAYS,
        jobEveryMinutes: STEP / 60_000,
        houses: HOUSES.length,
        tools: TOOLS.length,
        halfLifeHours: config.halfLifeHours,
        minSamples: config.minSamples,
        epsilon: EPSILON,
      },
      tables: [
        {
          title: 'Best house chosen per chooser (routed stream, medians over rounds)',
          header: ['chooser', `within ${EPSILON} of the best`, 'strictly the best'],
          rows: [
            ['routing by prediction', med((c) => c.subject.near), med((c) => c.subject.strict)],
            ['always the first house', med((c) => c.first.near), med((c) => c.first.strict)],
            ['a random house', med((c) => c.random.near), med((c) => c.random.strict)],
            ['jobs judged', String(median(choices.map((c) => c.judged))), ''],
          ],
        },
        {
          title: 'Predictions on the named stream (medians over rounds)',
          header: ['share of the attainable Brier improvement (global average → true rates)'],
          rows: [[pct(attained)]],
        },
        {
          title: 'Routing by prediction per tool (routed stream, medians over rounds)',
          header: ['tool', 'true rates', 'jobs judged', `within ${EPSILON} of the best`],
          rows: TOOLS.map((t, i) => [
            t,
            ['stable', `abrupt change on day ${CHANGE_DAY}`, 'gradual crossover'][i]!,
            String(median(choices.map((c) => c.perTool[i]!.judged))),
            med((c) => c.perTool[i]!.near / c.perTool[i]!.judged),
          ]),
        },
      ],
    }
  },
}
