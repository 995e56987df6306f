// Cross-validation of the triage classifier on a labelled CSV/JSONL file (docs/TRIAGE.md).
//   npx tsx scripts/cv-triage.ts [--data file] [--folds 5] [--seed 1] [--baselines] [--json]
//     [--set prior.sgd.epochs=12 --set repo.priorWeight=1 ...]
import { parseArgs } from 'node:util'
import { crossValidate, type CrossValidateOptions, type FoldScores } from '../src/triage/cross-validate.js'
import { readExamples } from '../src/triage/read-examples.js'
import { PRIOR_OPTIONS, REPO_OPTIONS } from '../src/triage/tuned-options.js'

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '/work/shared/datasets/nlbse24-issues-train.csv' },
    folds: { type: 'string', default: '5' },
    seed: { type: 'string', default: '1' },
    baselines: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    set: { type: 'string', multiple: true, default: [] },
  },
})

const opts: CrossValidateOptions = {
  folds: Number(values.folds),
  seed: Number(values.seed),
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
const cv = crossValidate(rows, opts)
const seconds = (performance.now() - started) / 1000

const stats = (xs: number[]): { mean: number; sd: number } => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length
  return { mean, sd: Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1)) }
}
const fmt = (s: { mean: number; sd: number }): string => `${s.mean.toFixed(4)} ± ${s.sd.toFixed(4)}`
const keys: (keyof FoldScores)[] = values.baselines ? ['adapted', 'priorOnly', 'repoOnly'] : ['adapted']

const summary = {
  settings: values.set,
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
    `${opts.folds}-fold CV, seed ${opts.seed}, ${rows.length} rows, ${seconds.toFixed(1)} s  ${values.set.join(' ')}`,
  )
  for (const [repo, s] of Object.entries(summary.perRepo))
    console.log(`  ${repo.padEnd(26)} ${keys.map((k) => `${k} ${fmt(s[k]!)}`).join('  ')}`)
  console.log(
    `  ${'mean over repos'.padEnd(26)} ${keys.map((k) => `${k} ${fmt(summary.overall[k]!)}`).join('  ')}`,
  )
}
