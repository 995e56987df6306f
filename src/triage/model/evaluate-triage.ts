import { labelClass } from './label-class.js'
import { classificationReport, type LabelScores } from './metrics.js'
import type { LabelledIssue } from './read-examples.js'
import { TriageModel } from './triage-model.js'
import { PRIOR_OPTIONS, REPO_OPTIONS } from './tuned-options.js'

export interface RepoEvaluation {
  macroF1: number
  labels: Record<string, Omit<LabelScores, 'support'> & { support: number }>
  trainMs: number
  testCount: number
}

export interface TriageEvaluation {
  perRepo: Record<string, RepoEvaluation>
  meanMacroF1: number
  trainMsPerRepo: number
  classifyMsPerIssue: number
}

/**
 * Per-repo evaluation: for each repo present in both sets, a model is adapted to that repo's
 * training rows on top of `prior` (or trained alone without one) and scored on its test rows.
 * Labels are compared after `labelClass` normalisation. Scores are deterministic; the timings
 * are wall-clock.
 *
 * @example
 * const result = evaluateTriage(readExamples('train.csv'), readExamples('test.csv'), loadShippedPrior())
 */
export function evaluateTriage(
  train: readonly LabelledIssue[],
  test: readonly LabelledIssue[],
  prior: TriageModel | undefined,
): TriageEvaluation {
  const repos = [...new Set(train.map((r) => r.repo))].filter((r) => test.some((t) => t.repo === r)).sort()
  const perRepo: Record<string, RepoEvaluation> = {}
  let trainMs = 0
  let classifyMs = 0
  let classified = 0
  for (const repo of repos) {
    const rows = train.filter((r) => r.repo === repo)
    const held = test.filter((r) => r.repo === repo)
    let started = performance.now()
    const model = TriageModel.train(rows, { prior, options: REPO_OPTIONS })
    const ms = performance.now() - started
    started = performance.now()
    const predicted = held.map((r) => model.predict(r, { reasons: 0 }).label)
    classifyMs += performance.now() - started
    classified += held.length
    trainMs += ms
    const report = classificationReport(
      held.map((r) => labelClass(r.label)),
      predicted,
    )
    perRepo[repo] = { macroF1: report.macroF1, labels: report.labels, trainMs: ms, testCount: held.length }
  }
  const f1s = Object.values(perRepo).map((r) => r.macroF1)
  return {
    perRepo,
    meanMacroF1: f1s.length ? f1s.reduce((a, b) => a + b, 0) / f1s.length : 0,
    trainMsPerRepo: repos.length ? trainMs / repos.length : 0,
    classifyMsPerIssue: classified ? classifyMs / classified : 0,
  }
}

/**
 * A prior built from a training file, as the eval CLI's `--prior train` does.
 *
 * @example
 * const prior = priorFromRows(readExamples('train.csv'))
 */
export function priorFromRows(rows: readonly LabelledIssue[]): TriageModel {
  return TriageModel.train(rows, { options: PRIOR_OPTIONS })
}
