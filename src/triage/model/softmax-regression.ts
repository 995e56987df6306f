import type { SparseVector } from './hash-features.js'
import { seededRandom } from './seeded-random.js'

/** Sparse multinomial logistic regression weights: only buckets seen in training have a row. */
export interface SparseWeights {
  classes: number
  /** bucket -> row number in `w`. */
  rows: Map<number, number>
  /** The same as a dense array (-1 = no row), built lazily for fast scoring. */
  lookup?: Int32Array
  /** rows x classes, row-major. */
  w: Float32Array
  bias: Float32Array
}

export interface SgdOptions {
  epochs: number
  /** Initial learning rate; it decays linearly to zero over the epochs. */
  learningRate: number
  /** L2 penalty on the weights (towards zero, i.e. towards the base model when there is one). */
  l2: number
  seed: number
}

/**
 * Adds x·W + b for every class to `out` (which already holds any base scores).
 *
 * @example
 * const s = new Float64Array(weights.classes); addScores(weights, x, s)
 */
export function addScores(weights: SparseWeights, x: SparseVector, out: Float64Array): void {
  const C = weights.classes
  for (let c = 0; c < C; c++) out[c]! += weights.bias[c]!
  const lookup = (weights.lookup ??= buildLookup(weights.rows))
  for (let i = 0; i < x.index.length; i++) {
    const row = lookup[x.index[i]!] ?? -1
    if (row < 0) continue
    const v = x.value[i]!
    const off = row * C
    for (let c = 0; c < C; c++) out[c]! += v * weights.w[off + c]!
  }
}

function buildLookup(rows: Map<number, number>): Int32Array {
  let max = 0
  for (const b of rows.keys()) if (b > max) max = b
  const lookup = new Int32Array(max + 1).fill(-1)
  for (const [b, r] of rows) lookup[b] = r
  return lookup
}

/** In-place softmax; returns the argmax. */
export function softmax(scores: Float64Array): number {
  let best = 0
  for (let c = 1; c < scores.length; c++) if (scores[c]! > scores[best]!) best = c
  const max = scores[best]!
  let sum = 0
  for (let c = 0; c < scores.length; c++) sum += scores[c] = Math.exp(scores[c]! - max)
  for (let c = 0; c < scores.length; c++) scores[c]! /= sum
  return best
}

/** Empty weights with a row for every bucket that occurs in `xs`, plus those of `init`. */
export function allocateWeights(
  xs: readonly SparseVector[],
  classes: number,
  init?: SparseWeights,
): SparseWeights {
  const rows = new Map<number, number>(init?.rows ?? [])
  for (const x of xs) for (const b of x.index) if (!rows.has(b)) rows.set(b, rows.size)
  const w = new Float32Array(rows.size * classes)
  const bias = new Float32Array(classes)
  if (init) {
    w.set(init.w.subarray(0, init.rows.size * classes))
    bias.set(init.bias)
  }
  return { classes, rows, w, bias }
}

/**
 * Trains `weights` in place with SGD on the softmax loss. `base[i]` holds fixed scores added before
 * the softmax (a prior model's scores), so the weights learn only what the prior gets wrong and
 * the L2 penalty pulls the combined model towards the prior. Deterministic for a seed.
 *
 * @example
 * const w = allocateWeights(xs, 3); trainSoftmax(w, xs, ys, undefined, { epochs: 10, learningRate: 0.5, l2: 1e-4, seed: 1 })
 */
export function trainSoftmax(
  weights: SparseWeights,
  xs: readonly SparseVector[],
  ys: readonly number[],
  base: readonly Float64Array[] | undefined,
  opts: SgdOptions,
): void {
  const C = weights.classes
  const n = xs.length
  if (n === 0) return
  const rand = seededRandom(opts.seed)
  const order = Array.from({ length: n }, (_, i) => i)
  const scores = new Float64Array(C)
  const rowsOf = xs.map((x) => Int32Array.from(x.index, (b) => weights.rows.get(b)!))
  const total = opts.epochs * n
  let step = 0
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1))
      ;[order[i], order[j]] = [order[j]!, order[i]!]
    }
    for (const k of order) {
      const lr = opts.learningRate * (1 - step++ / total)
      const x = xs[k]!
      const rows = rowsOf[k]!
      const b = base?.[k]
      for (let c = 0; c < C; c++) scores[c] = weights.bias[c]! + (b ? b[c]! : 0)
      for (let i = 0; i < rows.length; i++) {
        const v = x.value[i]!
        const off = rows[i]! * C
        for (let c = 0; c < C; c++) scores[c]! += v * weights.w[off + c]!
      }
      softmax(scores)
      scores[ys[k]!]! -= 1
      const decay = 1 - lr * opts.l2
      for (let i = 0; i < rows.length; i++) {
        const v = x.value[i]!
        const off = rows[i]! * C
        for (let c = 0; c < C; c++) weights.w[off + c] = weights.w[off + c]! * decay - lr * scores[c]! * v
      }
      for (let c = 0; c < C; c++) weights.bias[c]! -= lr * scores[c]!
    }
  }
}
