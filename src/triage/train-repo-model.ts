import type { GiteaPort, RepoRef } from '../gitea/port.js'
import { collectTrainingExamples, type CollectOptions, type CollectedHistory } from './model/issue-history.js'
import { TriageModel, type TrainingExample } from './model/triage-model.js'
import { REPO_OPTIONS } from './model/tuned-options.js'
import type { RepoModels } from './repo-models.js'
import type { TriageStore } from './triage-store.js'

export interface TrainedRepoModel {
  model: TriageModel
  /** The store revision the model was saved under. */
  revision: number
  fromHistory: number
  /** Stored corrections not already in the history (open issues, or closed ones relabelled since). */
  fromCorrections: number
  paging: Omit<CollectedHistory, 'examples'>
}

/**
 * Trains a repository's type model from scratch on its closed, type-labelled issues (read through
 * the port with safe paging) plus the corrections people made, on top of the shipped prior, and
 * saves it as the repo's model.
 *
 * @example
 *   const r = await trainRepoModel(gitea, store, models, { owner: 'alice', name: 'demo' })
 *   r.model.exampleCount // 312
 */
export async function trainRepoModel(
  port: GiteaPort,
  store: TriageStore,
  models: RepoModels,
  repo: RepoRef,
  options: CollectOptions & { prior?: TriageModel } = {},
): Promise<TrainedRepoModel> {
  const { examples: history, ...paging } = await collectTrainingExamples(
    async (_name, q) =>
      (await port.listIssues(repo, { state: q.state, type: 'issues', page: q.page, limit: q.limit })).map(
        (i) => ({
          number: i.number,
          title: i.title,
          body: i.body,
          labels: i.labels.map((l) => l.name),
          pull_request: i.isPull ? {} : undefined,
        }),
      ),
    `${repo.owner}/${repo.name}`,
    options,
  )
  const seen = new Set(history.map(textKey))
  const corrections = (await store.listExamples(repo))
    .map((e) => e.example)
    .filter((e) => !seen.has(textKey(e)))
  const examples = [...history, ...corrections]
  if (examples.length === 0)
    throw new Error(
      `${repo.owner}/${repo.name} has no closed issue with exactly one type label and no corrections yet: nothing to train on`,
    )
  const model = TriageModel.train(examples, {
    prior: options.prior ?? models.priorModel(),
    options: REPO_OPTIONS,
  })
  const revision = await models.replace(repo, model)
  return { model, revision, fromHistory: history.length, fromCorrections: corrections.length, paging }
}

function textKey(e: TrainingExample): string {
  return `${e.title}\u0000${e.body ?? ''}`
}
