// Cross-validation of the triage classifier on a labelled CSV/JSONL file (docs/TRIAGE.md).
//   npx tsx scripts/cv-triage.ts [--data file] [--folds 5] [--seed 1 | --seeds 1,2,3] [--baselines] [--json]
//     [--set prior.sgd.epochs=12 --set repo.priorWeight=1 ...]
import { parseArgs } from 'node:util'
import {
  crossValidate,
  type CrossValidateOptions,
  type FoldScores,
} from '../src/triage/model/cross-validate.js'
import { readExamples } from '../src/triage/model/read-examples.js'
import { PRIOR_OPTIONS, REPO_OPTIONS } from '../src/triage/model/tuned-options.js'

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '/work/shared/datasets/nlbse24-issues-train.csv' },
    folds: { type: 'string', default: '5' },
    seed: { type: 'string', default: '1' },
    // Several fold assignments: each fold of each seed counts as one sample in mean ± sd.
    seeds: { type: 'string' },
    baselines: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    set: { type: 'string', multiple: true, default: [] },
  },
})

const seeds = (values.seeds ?? values.seed).split(',').map(Number)
const opts: CrossValidateOptions = {
  folds: Number(values.folds),
  seed: seeds[0]!,
  baselines: values.baselines,
  // Start from the shipped settings; --set overrides single values.
  prior: structuredClone(PRIOR_OPTIONS),
  repo: structuredClone(REPO_OPTIONS),
}
for (const assignment of values.set) {
  const [path, raw] = assignment.split('=')
  const keys = path!.split('.')
  let target = opts as unknown as Record<string, unknown>
  for (const key of keys.slice(0, -1)) target = (target[key] ??= {}) as Record<string, unknown>
  target[keys.at(-1)!] = Number(raw)
}

const rows = readExamples(values.data)
const started = performance.now()
const runs = seeds.map((seed) => crossValidate(rows, { ...opts, seed }))
const cv = {
  perFold: runs.flatMap((r) => r.perFold),
  perRepo: Object.fromEntries(
    Object.keys(runs[0]!.perRepo).map((repo) => [repo, runs.flatMap((r) => r.perRepo[repo]!)]),
  ),
}
const perSeed = runs.map((r) => r.perFold.reduce((a, f) => a + f.adapted, 0) / r.perFold.length)
const seconds = (performance.now() - started) / 1000

const stats = (xs: number[]): { mean: number; sd: number } => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length
  return { mean, sd: Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1)) }
}
const fmt = (s: { mean: number; sd: number }): string => `${s.mean.toFixed(4)} ± ${s.sd.toFixed(4)}`
const keys: (keyof FoldScores)[] = values.baselines ? ['adapted', 'priorOnly', 'repoOnly'] : ['adapted']

const summary = {
  settings: values.set,
  seeds,
  perSeed,
  seconds,
  overall: Object.fromEntries(keys.map((k) => [k, stats(cv.perFold.map((f) => f[k]!))])),
  perRepo: Object.fromEntries(
    Object.entries(cv.perRepo).map(([repo, folds]) => [
      repo,
      Object.fromEntries(keys.map((k) => [k, stats(folds.map((f) => f[k]!))])),
    ]),
  ),
}
if (values.json) console.log(JSON.stringify(summary))
else {
  console.log(
    `${opts.folds}-fold CV, seeds ${seeds.join(',')} (adapted ${perSeed.map((m) => m.toFixed(4)).join(', ')}), ${rows.length} rows, ${seconds.toFixed(1)} s  ${values.set.join(' ')}`,
  )
  for (const [repo, s] of Object.entries(summary.perRepo))
    console.log(`  ${repo.padEnd(26)} ${keys.map((k) => `${k} ${fmt(s[k]!)}`).join('  ')}`)
  console.log(
    `  ${'mean over repos'.padEnd(26)} ${keys.map((k) => `${k} ${fmt(summary.overall[k]!)}`).join('  ')}`,
  )
}
