// Domain-adaptation experiments of docs/TRIAGE.md (joint models, ensembles) on the CV folds.
//   npx tsx scripts/exp-triage-domain.ts 1,2,3 "base,daume-shared+corr s0.7,daume-joint s0.5"
import { stratifiedFolds } from '../src/triage/model/cross-validate.js'
import { featurize, type SparseVector } from '../src/triage/model/hash-features.js'
import { labelClass } from '../src/triage/model/label-class.js'
import { classificationReport } from '../src/triage/model/metrics.js'
import { readExamples } from '../src/triage/model/read-examples.js'
import {
  addScores,
  allocateWeights,
  softmax,
  trainSoftmax,
  type SgdOptions,
  type SparseWeights,
} from '../src/triage/model/softmax-regression.js'
import { TriageModel } from '../src/triage/model/triage-model.js'
import { PRIOR_OPTIONS } from '../src/triage/model/tuned-options.js'

const seeds = (process.argv[2] ?? '1').split(',').map(Number)
const only = process.argv[3]?.split(',')
const rows = readExamples('/work/shared/datasets/nlbse24-issues-train.csv')
const classes = ['bug', 'feature', 'question']
const ys = rows.map((r) => classes.indexOf(labelClass(r.label)))
const repos = [...new Set(rows.map((r) => r.repo))].sort()
const pid = rows.map((r) => repos.indexOf(r.repo))
const SH = 1 << 18

const sgd = (o: Partial<SgdOptions> = {}): SgdOptions => ({
  epochs: 12,
  learningRate: 0.5,
  l2: 1e-4,
  seed: 1,
  ...o,
})
function fit(xs: SparseVector[], y: number[], base?: Float64Array[], o?: Partial<SgdOptions>): SparseWeights {
  const w = allocateWeights(xs, 3)
  trainSoftmax(w, xs, y, base, sgd(o))
  return w
}
function scores(w: SparseWeights, x: SparseVector, base?: Float64Array): Float64Array {
  const s = base ? Float64Array.from(base) : new Float64Array(3)
  addScores(w, x, s)
  return s
}
function aug(x: SparseVector, p: number, s = 1, shared = 1): SparseVector {
  const n = x.index.length
  const index = new Int32Array(2 * n)
  const value = new Float32Array(2 * n)
  for (let i = 0; i < n; i++) {
    index[i] = x.index[i]!
    value[i] = x.value[i]! * shared
    index[n + i] = x.index[i]! + (p + 1) * SH
    value[n + i] = x.value[i]! * s
  }
  return { index, value }
}
const argmax = (s: Float64Array): Float64Array => {
  const c = Float64Array.from(s)
  softmax(c)
  return c
}

type Variant = (ctx: { X: SparseVector[]; tr: number[]; te: number[] }) => Float64Array[] // predictions for te
const variants: Record<string, Variant> = {
  base: ({ X, tr, te }) => {
    const P = fit(
      tr.map((i) => X[i]!),
      tr.map((i) => ys[i]!),
    )
    return perRepo(X, tr, te, (i) => scores(P, X[i]!))
  },
}
function perRepo(
  X: SparseVector[],
  tr: number[],
  te: number[],
  prior: (i: number) => Float64Array,
  o?: Partial<SgdOptions>,
  xf = (i: number) => X[i]!,
): Float64Array[] {
  const out = new Array<Float64Array>(te.length)
  for (let p = 0; p < repos.length; p++) {
    const rtr = tr.filter((i) => pid[i] === p)
    const R = fit(
      rtr.map(xf),
      rtr.map((i) => ys[i]!),
      rtr.map(prior),
      o,
    )
    te.forEach((i, j) => {
      if (pid[i] === p) out[j] = argmax(scores(R, xf(i), prior(i)))
    })
  }
  return out
}
for (const s of [0.25, 0.35, 0.5, 0.7, 1, 2]) {
  variants[`daume-joint s${s}`] = ({ X, tr, te }) => {
    const W = fit(
      tr.map((i) => aug(X[i]!, pid[i]!, s)),
      tr.map((i) => ys[i]!),
    )
    return te.map((i) => argmax(scores(W, aug(X[i]!, pid[i]!, s))))
  }
  variants[`daume-shared+corr s${s}`] = ({ X, tr, te }) => {
    const W = fit(
      tr.map((i) => aug(X[i]!, pid[i]!, s)),
      tr.map((i) => ys[i]!),
    )
    return perRepo(X, tr, te, (i) => scores(W, X[i]!))
  }
}
variants['epochs30'] = ({ X, tr, te }) => {
  const P = fit(
    tr.map((i) => X[i]!),
    tr.map((i) => ys[i]!),
    undefined,
    { epochs: 30 },
  )
  return perRepo(X, tr, te, (i) => scores(P, X[i]!), { epochs: 30 })
}

const memo = new Map<string, Float64Array[]>()
const get = (n: string, ctx: Parameters<Variant>[0]): Float64Array[] => {
  let v = memo.get(n)
  if (!v) memo.set(n, (v = variants[n]!(ctx)))
  return v
}
const mixv =
  (a: string, b: string, wa = 0.5) =>
  (ctx: Parameters<Variant>[0]) => {
    const A = get(a, ctx),
      B = get(b, ctx)
    return A.map((p, j) => p.map((v, c) => wa * v + (1 - wa) * B[j]![c]!))
  }
variants['ens base+dsc0.7'] = mixv('base', 'daume-shared+corr s0.7')
variants['ens base+dj1'] = mixv('base', 'daume-joint s1')
variants['ens dsc0.7+dj1'] = mixv('daume-shared+corr s0.7', 'daume-joint s1')
variants['ens dsc0.5+dj0.5'] = mixv('daume-shared+corr s0.5', 'daume-joint s0.5')
const names = Object.keys(variants).filter((n) => !only || only.includes(n))
const res: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]))
const perRepoRes: Record<string, number[][]> = Object.fromEntries(names.map((n) => [n, repos.map(() => [])]))
for (const seed of seeds) {
  const fold = stratifiedFolds(rows, 5, seed)
  const acc: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]))
  for (let k = 0; k < 5; k++) {
    const trRows = rows.filter((_, i) => fold[i] !== k)
    const prior = TriageModel.train(trRows, { options: PRIOR_OPTIONS })
    const X = rows.map((r) => featurize(r, prior.options.features, undefined, prior.idf()))
    const tr = rows.map((_, i) => i).filter((i) => fold[i] !== k)
    const te = rows.map((_, i) => i).filter((i) => fold[i] === k)
    memo.clear()
    const ctx = { X, tr, te }
    for (const n of names) {
      const pred = get(n, ctx).map((p) => softmax(Float64Array.from(p)))
      let m = 0
      for (let p = 0; p < repos.length; p++) {
        const idx = te.map((i, j) => [i, j] as const).filter(([i]) => pid[i] === p)
        const f = classificationReport(
          idx.map(([i]) => classes[ys[i]!]!),
          idx.map(([, j]) => classes[pred[j]!]!),
        ).macroF1
        perRepoRes[n]![p]!.push(f)
        m += f / repos.length
      }
      acc[n]!.push(m)
    }
  }
  for (const n of names) res[n]!.push(acc[n]!.reduce((a, b) => a + b) / 5)
}
for (const n of names)
  console.log(
    `${n.padEnd(28)} mean ${(res[n]!.reduce((a, b) => a + b) / seeds.length).toFixed(4)}  per seed ${res[n]!.map((v) => v.toFixed(4)).join(' ')}  repos ${perRepoRes[n]!.map((f) => (f.reduce((a, b) => a + b) / f.length).toFixed(3)).join(' ')}`,
  )
