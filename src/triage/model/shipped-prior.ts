import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { packageRoot } from '../../package-root.js'
import { TriageModel } from './triage-model.js'

/** Where the general prior lives in the package (built by scripts/build-triage-prior.ts). */
export function shippedPriorPath(): string {
  return join(packageRoot(), 'models', 'triage-prior.json')
}

let cached: TriageModel | undefined

/**
 * The general issue-type prior bundled with uni-wizard (bug / feature / question, trained on the
 * NLBSE'24 training split of five public projects). Loaded once and cached.
 *
 * @example
 * const model = TriageModel.train(repoExamples, { prior: loadShippedPrior(), options: REPO_OPTIONS })
 */
export function loadShippedPrior(path?: string): TriageModel {
  if (path) return TriageModel.deserialize(readFileSync(path, 'utf8'))
  cached ??= TriageModel.deserialize(readFileSync(shippedPriorPath(), 'utf8'))
  return cached
}
