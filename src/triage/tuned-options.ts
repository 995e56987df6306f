import type { TrainOptions } from './triage-model.js'

/**
 * Hyper-parameters chosen by 5-fold cross-validation on the NLBSE'24 training split
 * (scripts/cv-triage.ts, docs/TRIAGE.md). The prior and the per-repo correction share features.
 */
export const PRIOR_OPTIONS: NonNullable<TrainOptions['options']> = {
  sgd: { epochs: 12, learningRate: 1, l2: 1e-4, seed: 1 },
}

/** For a repo model trained on top of the shipped prior. */
export const REPO_OPTIONS: NonNullable<TrainOptions['options']> = {
  sgd: { epochs: 12, learningRate: 1, l2: 1e-4, seed: 1 },
  priorWeight: 1,
}
