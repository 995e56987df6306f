import { labelClass } from './label-class.js'
import { classificationReport } from './metrics.js'
import type { LabelledIssue } from './read-examples.js'
import { seededRandom, shuffled } from './seeded-random.js'
import { TriageModel, type TrainOptions } from './triage-model.js'

export interface CrossValidateOptions {
  folds: number
  seed: number
  /** Hyper-parameters for the prior and the per-repo models. */
  prior?: TrainOptions['options']
  repo?: TrainOptions['options']
  /** Also evaluate the prior alone and per-repo models without a prior (costs one more model per fold). */
  baselines?: boolean
}

export interface FoldScores {
  adapted: number
  priorOnly?: number
  repoOnly?: number
}

export interface CrossValidation {
  /** repo -> macro F1 of each fold. */
  perRepo: Record<string, FoldScores[]>
  /** Mean over repos of each fold's macro F1, one number per fold. */
  perFold: FoldScores[]
}

/**
 * Assigns every row a fold, stratified by repo and label, with a seeded shuffle.
 *
 * @example
 * const folds = stratifiedFolds(rows, 5, 1) // folds[i] in 0..4
 */
export function stratifiedFolds(rows: readonly LabelledIssue[], k: number, seed: number): number[] {
  const fold = new Array<number>(rows.length).fill(0)
  const groups = new Map<string, number[]>()
  rows.forEach((r, i) => {
    const key = `${r.repo}\u0000${labelClass(r.label)}`
    groups.set(key, [...(groups.get(key) ?? []), i])
  })
  const rand = seededRandom(seed)
  for (const key of [...groups.keys()].sort())
    shuffled(groups.get(key)!, rand).forEach((row, j) => (fold[row] = j % k))
  return fold
}

/**
 * k-fold cross-validation of the shipped-prior protocol: for each fold, a prior is trained on the
 * other folds of every repo (never on the held-out rows), then each repo's model is adapted on its
 * own rows of the other folds and scored on its held-out rows.
 *
 * @example
 * const cv = crossValidate(readExamples('train.csv'), { folds: 5, seed: 1 })
 */
export function crossValidate(rows: readonly LabelledIssue[], opts: CrossValidateOptions): CrossValidation {
  const fold = stratifiedFolds(rows, opts.folds, opts.seed)
  const repos = [...new Set(rows.map((r) => r.repo))].sort()
  const perRepo: Record<string, FoldScores[]> = Object.fromEntries(repos.map((r) => [r, []]))
  const perFold: FoldScores[] = []
  for (let k = 0; k < opts.folds; k++) {
    const train = rows.filter((_, i) => fold[i] !== k)
    const prior = TriageModel.train(train, { options: opts.prior })
    const scores: FoldScores[] = []
    for (const repo of repos) {
      const repoTrain = train.filter((r) => r.repo === repo)
      const test = rows.filter((r, i) => fold[i] === k && r.repo === repo)
      const truth = test.map((r) => labelClass(r.label))
      const f1 = (m: TriageModel): number =>
        classificationReport(
          truth,
          test.map((r) => m.predict(r, { reasons: 0 }).label),
        ).macroF1
      const s: FoldScores = { adapted: f1(TriageModel.train(repoTrain, { prior, options: opts.repo })) }
      if (opts.baselines) {
        s.priorOnly = f1(prior)
        s.repoOnly = f1(
          TriageModel.train(repoTrain, { options: { ...opts.repo, features: prior.options.features } }),
        )
      }
      perRepo[repo]!.push(s)
      scores.push(s)
    }
    const mean = (key: keyof FoldScores): number | undefined =>
      scores[0]?.[key] === undefined ? undefined : scores.reduce((a, s) => a + s[key]!, 0) / scores.length
    perFold.push({ adapted: mean('adapted')!, priorOnly: mean('priorOnly'), repoOnly: mean('repoOnly') })
  }
  return { perRepo, perFold }
}
