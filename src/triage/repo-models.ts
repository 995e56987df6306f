import type { RepoRef } from '../gitea/port.js'
import type { Logger } from '../logger.js'
import { loadShippedPrior } from './model/shipped-prior.js'
import { TriageModel, type TrainingExample } from './model/triage-model.js'
import { REPO_OPTIONS } from './model/tuned-options.js'
import { repoKey, type TriageStore } from './triage-store.js'

export interface RepoModelsOptions {
  /** The general model repo models adapt (default: the shipped prior, loaded on first need). */
  prior?: () => TriageModel | undefined
  /** Repos whose model stays in memory (least recently used are dropped). Default 64. */
  maxCached?: number
  log?: Logger
}

/** How many times a learner retries when another process saved the model in between. */
const CAS_ATTEMPTS = 5

/**
 * Each repository's type model, persisted in the triage store and cached in memory per revision.
 * `get` costs one cheap revision read when the cached model is current, so every process sees a
 * model another process saved. A stored model that no longer deserialises (for instance after the
 * shipped prior changed) is logged and treated as absent: triage falls back to the rules until
 * `uni-wizard triage train` runs again.
 *
 * @example
 *   const models = new RepoModels(store)
 *   const model = await models.get({ owner: 'alice', name: 'demo' }) // undefined: none yet
 *   await models.learn(repo, [{ title: 'How do I ...?', body: '', label: 'question' }])
 */
export class RepoModels {
  private readonly cache = new Map<string, { revision: number; model: TriageModel }>()
  private readonly maxCached: number
  private readonly prior: () => TriageModel | undefined

  constructor(
    private readonly store: TriageStore,
    private readonly options: RepoModelsOptions = {},
  ) {
    this.maxCached = options.maxCached ?? 64
    this.prior = options.prior ?? (() => loadShippedPrior())
  }

  /** The general model repo models are trained on top of. */
  priorModel(): TriageModel | undefined {
    return this.prior()
  }

  /** The repo's current model, or undefined when it has none (or it cannot be read). */
  async get(repo: RepoRef): Promise<TriageModel | undefined> {
    return (await this.current(repo))?.model
  }

  private async current(repo: RepoRef): Promise<{ revision: number; model: TriageModel } | undefined> {
    const key = repoKey(repo)
    const revision = await this.store.modelRevision(repo)
    if (revision === undefined) {
      this.cache.delete(key)
      return undefined
    }
    const hit = this.cache.get(key)
    if (hit?.revision === revision) {
      // Re-insert: Map order is the LRU order.
      this.cache.delete(key)
      this.cache.set(key, hit)
      return hit
    }
    const stored = await this.store.loadModel(repo)
    if (!stored) return undefined
    try {
      const model = TriageModel.deserialize(stored.text, { prior: this.prior() })
      this.remember(key, stored.revision, model)
      return { revision: stored.revision, model }
    } catch (err) {
      this.options.log?.warn({ err, repo: key }, 'stored triage model unreadable; using the rules')
      return undefined
    }
  }

  private remember(key: string, revision: number, model: TriageModel): void {
    this.cache.delete(key)
    this.cache.set(key, { revision, model })
    while (this.cache.size > this.maxCached) {
      const oldest = this.cache.keys().next().value
      if (oldest === undefined) break
      this.cache.delete(oldest)
    }
  }

  /**
   * Learns from a few new examples cheaply: `model.update` on the current model, or, when the repo
   * has none, a model trained on every stored example. Compare-and-set on the stored revision, so
   * a concurrent learner's update is never lost (this one re-reads and retries).
   */
  async learn(repo: RepoRef, examples: readonly TrainingExample[]): Promise<TriageModel> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const current = await this.current(repo)
      const model = current
        ? current.model.update(examples)
        : TriageModel.train(await this.allExamples(repo, examples), {
            prior: this.prior(),
            options: REPO_OPTIONS,
          })
      const revision = await this.store.saveModel(repo, model.serialize(), current?.revision)
      if (revision !== undefined) {
        this.remember(repoKey(repo), revision, model)
        return model
      }
    }
    throw new Error(`triage model of ${repoKey(repo)} kept changing under ${CAS_ATTEMPTS} attempts`)
  }

  /** Replaces the repo's model (after a full `triage train`). */
  async replace(repo: RepoRef, model: TriageModel): Promise<number> {
    const revision = await this.store.saveModel(repo, model.serialize(), undefined, true)
    if (revision === undefined) throw new Error('a forced model save cannot conflict')
    this.remember(repoKey(repo), revision, model)
    return revision
  }

  private async allExamples(repo: RepoRef, extra: readonly TrainingExample[]): Promise<TrainingExample[]> {
    const stored = (await this.store.listExamples(repo)).map((e) => e.example)
    const seen = new Set(stored.map((e) => `${e.title}\u0000${e.body ?? ''}`))
    return [...stored, ...extra.filter((e) => !seen.has(`${e.title}\u0000${e.body ?? ''}`))]
  }
}
