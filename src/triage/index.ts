// The triage service (decisions, labels, comments, per-repo models); the classifier is in model/.
export { planTriageLabels, type TriageLabelPlan } from './plan-triage-labels.js'
export { RedisTriageStore } from './redis-triage-store.js'
export { renderTriageComment, type ExplainedLabel } from './render-triage-comment.js'
export { RepoModels, type RepoModelsOptions } from './repo-models.js'
export { trainRepoModel, type TrainedRepoModel } from './train-repo-model.js'
export { TriageConfig } from './triage-config.js'
export { TriageRecord } from './triage-record.js'
export { triageCommentKey, GiteaTriageService, type TriageServiceDeps } from './triage-service.js'
export {
  repoKey,
  StoredExample,
  MemoryTriageStore,
  type StoredModel,
  type TriageStore,
} from './triage-store.js'
export * from './model/index.js'
