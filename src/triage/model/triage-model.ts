import { z } from 'zod'
import {
  DEFAULT_FEATURE_OPTIONS,
  featurize,
  type FeatureNames,
  type FeatureOptions,
  type IssueText,
  type SparseVector,
} from './hash-features.js'
import { labelClass } from './label-class.js'
import {
  addScores,
  allocateWeights,
  softmax,
  trainSoftmax,
  type SgdOptions,
  type SparseWeights,
} from './softmax-regression.js'
import { decodeWeights, encodeWeights, WeightPrecision } from './weight-codec.js'

/** A labelled issue to learn from. Labels are normalised with `labelClass`. */
export interface TrainingExample extends IssueText {
  label: string
  /** The repository it comes from: a prior trained on several repos uses it (`domainCopy`). */
  repo?: string
}

/** Hyper-parameters, chosen by cross-validation (docs/TRIAGE.md). */
export interface TriageModelOptions {
  features: FeatureOptions
  sgd: SgdOptions
  /** How much of the prior's scores the model starts from (0 = ignore the prior). */
  priorWeight: number
  /**
   * Training a model without a prior on examples from several repos: every feature also gets a
   * copy private to its repo, scaled by this value (0 = off), and only the shared weights are
   * kept ("frustratingly easy domain adaptation", Daumé 2007). The repo copies soak up what is
   * peculiar to one project, so the shared weights are the part that transfers: a better prior
   * for per-repo corrections. Ignored when training on top of a prior.
   */
  domainCopy: number
}

export const DEFAULT_MODEL_OPTIONS: TriageModelOptions = {
  features: DEFAULT_FEATURE_OPTIONS,
  sgd: { epochs: 12, learningRate: 0.5, l2: 1e-4, seed: 1 },
  priorWeight: 1,
  domainCopy: 0,
}

/** One feature's push towards the predicted label. */
export interface Reason {
  feature: string
  weight: number
}

export interface Prediction {
  label: string
  /** Probability of `label` under the model, 0..1. */
  confidence: number
  /** Probability of every class. */
  scores: Record<string, number>
  /** The features that pushed most towards `label`, strongest first. */
  reasons: Reason[]
}

export interface TrainOptions {
  /** A general model to adapt: this model learns a correction on top of its scores. */
  prior?: TriageModel
  options?: Partial<Omit<TriageModelOptions, 'features'>> & { features?: Partial<FeatureOptions> }
}

/** Document frequencies for idf: `df[row]` counts the training issues with that weight row's bucket. */
interface DocFrequencies {
  docs: number
  df: Uint16Array
}

const Serialized = z.object({
  kind: z.literal('uni-wizard/triage-model'),
  format: z.literal(1),
  version: z.number().int().nonnegative(),
  exampleCount: z.number().int().nonnegative(),
  classes: z.array(z.string()).min(1),
  options: z.object({
    features: z.object({
      bits: z.number().int().min(8).max(24),
      charMin: z.number().int().positive(),
      charMax: z.number().int().positive(),
      maxChars: z.number().int().positive(),
      titleWeight: z.number(),
      bodyWeight: z.number(),
      charWeight: z.number(),
      // Absent in models saved before idf existed: they featurise without it.
      idfPower: z.number().default(0),
    }),
    sgd: z.object({ epochs: z.number(), learningRate: z.number(), l2: z.number(), seed: z.number() }),
    priorWeight: z.number(),
    // Absent in models saved before domain copies existed (it only affects training).
    domainCopy: z.number().default(0),
  }),
  prior: z.object({ classes: z.array(z.string()), exampleCount: z.number(), version: z.number() }).nullable(),
  bias: z.array(z.number()),
  /** Document frequencies of the first `df.length` weight rows' buckets (models with idfPower > 0). */
  idf: z.object({ docs: z.number().int().nonnegative(), df: z.string() }).optional(),
  weights: z.object({
    precision: WeightPrecision,
    buckets: z.string(),
    values: z.string(),
    scales: z.array(z.number()),
  }),
})

/**
 * A linear text classifier for issue types: softmax regression over hashed word and character
 * n-grams. With a prior, it learns only a correction on top of the prior's scores, so a repo with a
 * few hundred labelled issues adapts a general model instead of starting from nothing.
 *
 * @example
 * const model = TriageModel.train(examples, { prior: loadShippedPrior() })
 * model.predict({ title: 'Crash on start', body: 'segfault in ...' }).label // 'bug'
 * const copy = TriageModel.deserialize(model.serialize(), { prior })
 */
export class TriageModel {
  private constructor(
    /** Class names the model predicts (sorted). */
    readonly classes: readonly string[],
    /** How many examples it was trained on (cumulative across updates). */
    readonly exampleCount: number,
    /** Increments with every train or update: persisted next to the model. */
    readonly version: number,
    readonly options: TriageModelOptions,
    private readonly weights: SparseWeights,
    readonly prior: TriageModel | undefined,
    private readonly docFreq: DocFrequencies | undefined,
  ) {}

  private idfCache: Float32Array | undefined

  /** Trains a model from scratch (or on top of `prior`). Examples need at least one label. */
  static train(examples: readonly TrainingExample[], train: TrainOptions = {}): TriageModel {
    if (examples.length === 0) throw new Error('TriageModel.train needs at least one example')
    const options = mergeOptions(train.prior, train.options)
    const labels = examples.map((e) => labelClass(e.label))
    const classes = [...new Set(labels)].sort()
    const ys = labels.map((l) => classes.indexOf(l))
    // Without a prior, idf comes from these examples: a first pass finds each one's buckets.
    const ownIdf = !train.prior && options.features.idfPower > 0
    let xs = examples.map((e) => featurize(e, options.features, undefined, train.prior?.idf()))
    const weights = allocateWeights(xs, classes.length)
    const docFreq = ownIdf ? documentFrequencies(xs, weights) : undefined
    const model = new TriageModel(classes, 0, 0, options, weights, train.prior, docFreq)
    if (ownIdf) xs = examples.map((e) => featurize(e, options.features, undefined, model.idf()))
    const repos = [...new Set(examples.map((e) => e.repo ?? ''))].sort()
    if (!train.prior && options.domainCopy > 0 && repos.length > 1) {
      const repoOf = examples.map((e) => repos.indexOf(e.repo ?? ''))
      const copies = xs.map((x, i) => withRepoCopy(x, repoOf[i]!, options.domainCopy, options.features.bits))
      // The shared rows come first (allocated from `weights`), so dropping the copies is a cut.
      const joint = allocateWeights(copies, classes.length, weights)
      trainSoftmax(joint, copies, ys, undefined, options.sgd)
      weights.w.set(joint.w.subarray(0, weights.w.length))
      weights.bias.set(joint.bias)
    } else trainSoftmax(weights, xs, ys, model.baseScores(xs), options.sgd)
    return new TriageModel(classes, examples.length, 1, options, weights, train.prior, docFreq)
  }

  /**
   * A cheap incremental retrain: continues SGD from the current weights on `examples` (for
   * instance a few human corrections), adding new classes if needed. Returns a new model.
   */
  update(
    examples: readonly TrainingExample[],
    epochs = Math.max(2, Math.ceil(this.options.sgd.epochs / 3)),
  ): TriageModel {
    if (examples.length === 0) return this
    const labels = examples.map((e) => labelClass(e.label))
    const classes = [...new Set([...this.classes, ...labels])].sort()
    const xs = examples.map((e) => featurize(e, this.options.features, undefined, this.idf()))
    const weights = allocateWeights(xs, classes.length, this.remapped(classes))
    const model = new TriageModel(classes, 0, 0, this.options, weights, this.prior, this.docFreq)
    const sgd = { ...this.options.sgd, epochs, seed: this.options.sgd.seed + this.version }
    trainSoftmax(
      weights,
      xs,
      labels.map((l) => classes.indexOf(l)),
      model.baseScores(xs),
      sgd,
    )
    return new TriageModel(
      classes,
      this.exampleCount + examples.length,
      this.version + 1,
      this.options,
      weights,
      this.prior,
      this.docFreq,
    )
  }

  /**
   * Predicts the class of an issue (a string is taken as the title). `reasons` (default 5) limits
   * the explanation; 0 skips it and is the fast path.
   */
  predict(input: string | IssueText, { reasons = 5 }: { reasons?: number } = {}): Prediction {
    const issue = typeof input === 'string' ? { title: input, body: '' } : input
    const names: FeatureNames | undefined = reasons > 0 ? new Map() : undefined
    const x = featurize(issue, this.options.features, names, this.idf())
    const probs = this.rawScores(x)
    const best = softmax(probs)
    const scores: Record<string, number> = {}
    this.classes.forEach((c, i) => (scores[c] = probs[i]!))
    return {
      label: this.classes[best]!,
      confidence: probs[best]!,
      scores,
      reasons: names ? this.explain(x, best, names, reasons) : [],
    }
  }

  /** Unnormalised class scores for a featurised issue (prior part included). */
  rawScores(x: SparseVector): Float64Array {
    const out = this.priorScores(x)
    addScores(this.weights, x, out)
    return out
  }

  /** JSON text holding everything but the prior (stored and shipped separately). */
  serialize(precision: WeightPrecision = 'f32'): string {
    const enc = encodeWeights(this.weights, precision)
    return JSON.stringify({
      kind: 'uni-wizard/triage-model',
      format: 1,
      version: this.version,
      exampleCount: this.exampleCount,
      classes: this.classes,
      options: this.options,
      prior: this.prior
        ? { classes: this.prior.classes, exampleCount: this.prior.exampleCount, version: this.prior.version }
        : null,
      bias: Array.from(this.weights.bias),
      idf: this.docFreq
        ? {
            docs: this.docFreq.docs,
            df: Buffer.from(
              this.docFreq.df.buffer,
              this.docFreq.df.byteOffset,
              this.docFreq.df.byteLength,
            ).toString('base64'),
          }
        : undefined,
      weights: enc,
    })
  }

  /**
   * Restores a model from `serialize()` output. A model trained on a prior needs that prior back;
   * a mismatch (other classes, size or version) throws instead of predicting nonsense.
   */
  static deserialize(text: string, { prior }: { prior?: TriageModel } = {}): TriageModel {
    const s = Serialized.parse(JSON.parse(text))
    if (s.prior) {
      if (!prior) throw new Error('this triage model was trained on a prior: pass it to deserialize')
      const same =
        prior.version === s.prior.version &&
        prior.exampleCount === s.prior.exampleCount &&
        prior.classes.join() === s.prior.classes.join()
      if (!same) throw new Error('the prior passed to deserialize is not the one this model was trained on')
    }
    const weights = decodeWeights(s.weights, s.classes.length, s.bias)
    let docFreq: DocFrequencies | undefined
    if (s.idf) {
      const raw = Buffer.from(s.idf.df, 'base64')
      const df = new Uint16Array(raw.length / 2)
      for (let i = 0; i < df.length; i++) df[i] = raw.readUInt16LE(i * 2)
      if (df.length > weights.rows.size) throw new Error('triage model idf does not match its weights')
      docFreq = { docs: s.idf.docs, df }
    }
    return new TriageModel(
      s.classes,
      s.exampleCount,
      s.version,
      s.options,
      weights,
      s.prior ? prior : undefined,
      docFreq,
    )
  }

  /**
   * The per-bucket idf multiplier featurisation uses (the prior's for a model trained on one), or
   * undefined when idf is off. Buckets never seen in training get the largest idf.
   */
  idf(): Float32Array | undefined {
    if (this.prior) return this.prior.idf()
    if (!this.docFreq || this.options.features.idfPower === 0) return undefined
    if (this.idfCache) return this.idfCache
    const { docs, df } = this.docFreq
    const p = this.options.features.idfPower
    const idf = new Float32Array(1 << this.options.features.bits).fill((Math.log(1 + docs) + 1) ** p)
    for (const [bucket, row] of this.weights.rows)
      if (row < df.length) idf[bucket] = (Math.log((1 + docs) / (1 + df[row]!)) + 1) ** p
    return (this.idfCache = idf)
  }

  private priorScores(x: SparseVector): Float64Array {
    const out = new Float64Array(this.classes.length)
    if (!this.prior || this.options.priorWeight === 0) return out
    const p = this.prior.rawScores(x)
    const a = this.options.priorWeight
    this.classes.forEach((c, i) => {
      const j = this.prior!.classes.indexOf(c)
      if (j >= 0) out[i] = a * p[j]!
    })
    return out
  }

  private baseScores(xs: readonly SparseVector[]): Float64Array[] | undefined {
    return this.prior ? xs.map((x) => this.priorScores(x)) : undefined
  }

  /** This model's weights laid out for a (super)set of classes. */
  private remapped(classes: readonly string[]): SparseWeights {
    const C = classes.length
    const from = this.classes.map((c) => classes.indexOf(c))
    const w = new Float32Array(this.weights.rows.size * C)
    const bias = new Float32Array(C)
    const oldC = this.classes.length
    for (let r = 0; r < this.weights.rows.size; r++)
      for (let c = 0; c < oldC; c++) w[r * C + from[c]!] = this.weights.w[r * oldC + c]!
    for (let c = 0; c < oldC; c++) bias[from[c]!] = this.weights.bias[c]!
    return { classes: C, rows: this.weights.rows, w, bias }
  }

  /** Per feature: value x (weight for `cls` minus the mean over classes), own + prior parts. */
  private explain(x: SparseVector, cls: number, names: FeatureNames, limit: number): Reason[] {
    const reasons: Reason[] = []
    const C = this.classes.length
    for (let i = 0; i < x.index.length; i++) {
      const single: SparseVector = { index: x.index.subarray(i, i + 1), value: x.value.subarray(i, i + 1) }
      const s = this.priorScores(single)
      const row = this.weights.rows.get(x.index[i]!)
      if (row !== undefined) for (let c = 0; c < C; c++) s[c]! += x.value[i]! * this.weights.w[row * C + c]!
      let mean = 0
      for (let c = 0; c < C; c++) mean += s[c]! / C
      const weight = s[cls]! - mean
      if (weight > 0) reasons.push({ feature: names.get(x.index[i]!) ?? `#${x.index[i]}`, weight })
    }
    return reasons.sort((a, b) => b.weight - a.weight).slice(0, limit)
  }
}

/**
 * `x` followed by a copy of it, scaled by `scale`, in a bucket range of its own for repo number
 * `repo` (bucket + (repo + 1) · 2^bits; repos beyond the int32 range share ranges).
 */
function withRepoCopy(x: SparseVector, repo: number, scale: number, bits: number): SparseVector {
  const n = x.index.length
  const ranges = 2 ** (31 - bits) - 1
  const offset = ((repo % ranges) + 1) * 2 ** bits
  const index = new Int32Array(2 * n)
  const value = new Float32Array(2 * n)
  index.set(x.index)
  value.set(x.value)
  for (let i = 0; i < n; i++) {
    index[n + i] = x.index[i]! + offset
    value[n + i] = x.value[i]! * scale
  }
  return { index, value }
}

function documentFrequencies(xs: readonly SparseVector[], weights: SparseWeights): DocFrequencies {
  const df = new Uint16Array(weights.rows.size)
  for (const x of xs)
    for (const b of x.index) {
      const row = weights.rows.get(b)!
      if (df[row]! < 0xffff) df[row]!++
    }
  return { docs: xs.length, df }
}

function mergeOptions(prior: TriageModel | undefined, o: TrainOptions['options'] = {}): TriageModelOptions {
  // A correction on top of a prior must featurise exactly like the prior did.
  const features = prior ? prior.options.features : { ...DEFAULT_MODEL_OPTIONS.features, ...o.features }
  return {
    features,
    sgd: { ...DEFAULT_MODEL_OPTIONS.sgd, ...o.sgd },
    priorWeight: o.priorWeight ?? DEFAULT_MODEL_OPTIONS.priorWeight,
    domainCopy: o.domainCopy ?? DEFAULT_MODEL_OPTIONS.domainCopy,
  }
}
