import { chooseByPrediction } from '../../src/intelligence/choose-house.js'
import { decayOf, type IntelligenceConfig } from '../../src/intelligence/intelligence-config.js'
import { MemoryPatternStore } from '../../src/intelligence/pattern-store.js'
import { predictCall } from '../../src/intelligence/predict.js'
import { seededRandom } from '../../src/triage/model/seeded-random.js'

// The replay behind `npm run bench -- predict` (docs/BENCHMARKS.md#predict): 30 days of jobs, one
// every 10 minutes, on 3 houses × 3 tools whose true success rates are stable, drift slowly or
// change abruptly, through the real MemoryPatternStore (the Redis script's decay and restarts,
// tested for parity), predictCall and chooseByPrediction. Pure and seeded: no timing.

export const HOUSES = ['ezra', 'bezalel', 'allegro'] as const
const DAY = 86_400_000
const STEP = 10 * 60_000
export const DAYS = 30
export const CHANGE_DAY = 15
export const JOB_EVERY_MINUTES = STEP / 60_000
/** A choice within this of the best true rate is a near-tie, not a mistake. */
export const EPSILON = 0.02
/** "Best house" is judged once every house has this many runs of the tool. */
export const JUDGED_AFTER = 20

/** A seeded world: tools and how each house really does at them, day by day. */
export interface Workload {
  name: string
  /** One line for the report. */
  title: string
  tools: { name: string; kind: string }[]
  /** The true success rate of house `h` at tool `t` on (fractional) day `d`. */
  rate(h: number, t: number, d: number): number
}

/**
 * `close`: the houses differ little (rates 0.5-0.95), so the outcomes' own noise dominates and
 * even the true rates score only ~0.9× the global average's Brier.
 */
export const CLOSE: Workload = {
  name: 'close',
  title: 'houses that differ little (rates 0.5-0.95)',
  tools: [
    { name: 'git_status', kind: 'stable' },
    { name: 'deploy', kind: `abrupt change on day ${CHANGE_DAY}` },
    { name: 'http_get', kind: 'gradual crossover' },
  ],
  rate: (h, t, d) =>
    t === 0
      ? [0.95, 0.8, 0.6][h]!
      : t === 1
        ? // a release breaks deploy on the best house and fixes it on the worst
          (d < CHANGE_DAY ? [0.9, 0.7, 0.5] : [0.55, 0.7, 0.92])[h]!
        : // ezra slowly degrades (0.92 → 0.62), allegro slowly improves (0.6 → 0.9)
          [0.92 - 0.01 * d, 0.78, 0.6 + 0.01 * d][h]!,
}

/**
 * `distinct`: houses differ as real ones do: a tool nearly every house runs cleanly but one has a
 * flaky runner, a deploy that fails on a misconfigured house most of the time (until a release
 * swaps which house is broken), and a flaky network tool whose best house drifts.
 */
export const DISTINCT: Workload = {
  name: 'distinct',
  title: 'houses that differ as real ones do (rates 0.1-0.99)',
  tools: [
    { name: 'lint', kind: 'stable, near-always succeeds (one flaky house)' },
    { name: 'deploy', kind: `fails on one house most of the time; abrupt swap on day ${CHANGE_DAY}` },
    { name: 'http_get', kind: 'flaky, gradual crossover' },
  ],
  rate: (h, t, d) =>
    t === 0
      ? [0.99, 0.98, 0.9][h]!
      : t === 1
        ? (d < CHANGE_DAY ? [0.95, 0.8, 0.1] : [0.2, 0.8, 0.95])[h]!
        : [0.75 - 0.01 * d, 0.6, 0.45 + 0.01 * d][h]!,
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

export interface PredictionScores {
  brier: number
  calibration: number
  globalBrier: number
  globalCalibration: number
  oracleBrier: number
}

/** Judged jobs of one tool, split by whether 20 runs could tell the houses apart. */
export interface ToolChoice {
  judged: number
  /** Jobs on a house within EPSILON of the best. */
  near: number
  /**
   * Judged jobs where a house outside EPSILON of the best is within one standard deviation of
   * the difference between two 20-run estimates: √(p_best(1−p_best)/20 + p(1−p)/20). On those,
   * the record routing judges by cannot yet tell which is better.
   */
  hard: number
  nearHard: number
  /** Jobs not "hard" on which always the first house was within EPSILON (the baseline). */
  firstNearEasy: number
  /** Jobs on which the full-information chooser was within EPSILON. */
  ceilingNear: number
}

export interface ChoiceScores {
  /** Share of judged jobs on a house within EPSILON of the best / exactly the best. */
  subject: { near: number; strict: number }
  first: { near: number; strict: number }
  random: { near: number; strict: number }
  /**
   * A ceiling, not a baseline: the same store and config fed every house's outcome on every job
   * (as if each job ran on all three houses, three times the evidence routing ever gets, and no
   * runs spent exploring), choosing the highest predicted success. What routing by this store
   * could reach at best; below 90% on a workload, the target is out of reach there for it.
   */
  ceiling: { near: number; strict: number }
  judged: number
  perTool: ToolChoice[]
}

export interface ReplayResult {
  predictions: PredictionScores
  choice: ChoiceScores
  /** Records restarted by the change detector (house × tool totals), per tool. */
  restarts: number[]
}

/**
 * Replays one stream of a workload: every job's house is named (spread evenly: scores the
 * predictions) or chosen by routing (scores the choice).
 */
export async function replay(
  workload: Workload,
  config: IntelligenceConfig,
  seed: number,
  stream: 'named' | 'routed',
): Promise<ReplayResult> {
  const random = seededRandom(seed)
  const t0 = Date.parse('2026-01-01T00:00:00Z')
  let now = t0
  const store = new MemoryPatternStore(decayOf(config), () => now)
  // The full-information ceiling (routed stream only): its own store and its own draws, so the
  // streams' seeded sequences are the same with or without it.
  const full = stream === 'routed' ? new MemoryPatternStore(decayOf(config), () => now) : undefined
  const fullRandom = seededRandom(seed ^ 0x5eed5eed)
  const tools = workload.tools.map((t) => t.name)
  const runs = new Map<string, number>()
  const restarts = tools.map(() => 0)
  let globalOk = 0
  let globalN = 0
  const subjectPairs: [number, number][] = []
  const globalPairs: [number, number][] = []
  const oraclePairs: [number, number][] = []
  const tally = {
    subject: { near: 0, strict: 0 },
    first: { near: 0, strict: 0 },
    random: { near: 0, strict: 0 },
    ceiling: { near: 0, strict: 0 },
  }
  let judged = 0
  const perTool: ToolChoice[] = tools.map(() => ({
    judged: 0,
    near: 0,
    hard: 0,
    nearHard: 0,
    firstNearEasy: 0,
    ceilingNear: 0,
  }))
  for (let step = 0; step < (DAYS * DAY) / STEP; step++) {
    now = t0 + step * STEP
    const d = (now - t0) / DAY
    const tool = Math.floor(random() * tools.length)
    const named = Math.floor(random() * HOUSES.length)
    const reads = await Promise.all(HOUSES.map((house) => store.read({ house, tool: tools[tool]! })))
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
    const truths = HOUSES.map((_, i) => workload.rate(i, tool, d))
    const best = Math.max(...truths)
    let ceiling = 0
    if (full) {
      const seen = await Promise.all(HOUSES.map((house) => full.read({ house, tool: tools[tool]! })))
      const p = seen.map((r) => predictCall(r, { now, config }).successProbability)
      ceiling = p.indexOf(Math.max(...p))
      for (const [i, house] of HOUSES.entries()) {
        const ok = fullRandom() < truths[i]!
        await full.record(
          { house, tool: tools[tool]! },
          ok ? { ok, durationMs: 1 } : { ok, durationMs: 1, kind: 'tool' },
          now,
        )
      }
    }
    if (stream === 'routed' && HOUSES.every((_, i) => (runs.get(`${i} ${tool}`) ?? 0) >= JUDGED_AFTER)) {
      const near = (i: number) => (truths[i]! >= best - EPSILON ? 1 : 0)
      const strict = (i: number) => (truths[i] === best ? 1 : 0)
      judged += 1
      tally.subject.near += near(h)
      tally.subject.strict += strict(h)
      tally.first.near += near(0)
      tally.first.strict += strict(0)
      // A random house: the expected share, exactly.
      tally.random.near += HOUSES.reduce((s, _, i) => s + near(i), 0) / HOUSES.length
      tally.random.strict += HOUSES.reduce((s, _, i) => s + strict(i), 0) / HOUSES.length
      tally.ceiling.near += near(ceiling)
      tally.ceiling.strict += strict(ceiling)
      const t = perTool[tool]!
      t.judged += 1
      t.near += near(h)
      t.ceilingNear += near(ceiling)
      const rival = Math.max(...truths.filter((_, i) => !near(i)))
      const noise = Math.sqrt((best * (1 - best)) / JUDGED_AFTER + (rival * (1 - rival)) / JUDGED_AFTER)
      if (best - rival < noise) {
        t.hard += 1
        t.nearHard += near(h)
      } else t.firstNearEasy += near(0)
    }
    const p = truths[h]!
    const ms = [300, 2000, 800][tool]! * (1 + 0.5 * h) * (1 + 0.3 * Math.sin(d / 5 + h))
    const ok = random() < p
    const durationMs = ms * Math.exp(0.3 * (random() + random() + random() - 1.5))
    const y = ok ? 1 : 0
    subjectPairs.push([predictions[h]!.successProbability, y])
    globalPairs.push([(globalOk + 1) / (globalN + 2), y])
    oraclePairs.push([p, y])
    globalOk += y
    globalN += 1
    runs.set(`${h} ${tool}`, (runs.get(`${h} ${tool}`) ?? 0) + 1)
    const key = { house: HOUSES[h]!, tool: tools[tool]! }
    await store.record(key, ok ? { ok, durationMs } : { ok, durationMs, kind: 'tool' }, now)
    if ((await store.read(key)).total.change?.at === now) restarts[tool]! += 1
  }
  const share = (x: { near: number; strict: number }) => ({
    near: x.near / judged,
    strict: x.strict / judged,
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
      subject: share(tally.subject),
      first: share(tally.first),
      random: share(tally.random),
      ceiling: share(tally.ceiling),
      judged,
      perTool,
    },
    restarts,
  }
}
