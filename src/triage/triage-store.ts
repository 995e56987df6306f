import { z } from 'zod'
import type { RepoRef } from '../gitea/port.js'
import type { TrainingExample } from './model/triage-model.js'
import { TriageRecord } from './triage-record.js'

/** A stored repo model: serialised text and the store's revision of it (for compare-and-set). */
export interface StoredModel {
  revision: number
  text: string
}

/**
 * Where triage keeps its state per repository: the record per issue, the repo's type model and
 * the training examples people gave by correcting the bot. `saveModel` with `expectedRevision`
 * is a compare-and-set, so two processes learning at once never silently drop an update.
 *
 * @example
 *   const store: TriageStore = new RedisTriageStore(redis)   // or new MemoryTriageStore()
 *   await store.putRecord(record)
 *   const rev = await store.saveModel('alice/demo', model.serialize(), undefined)
 */
export interface TriageStore {
  getRecord(repo: RepoRef, issue: number): Promise<TriageRecord | undefined>
  putRecord(record: TriageRecord): Promise<void>
  /** The current revision only (cheap): lets a cache check it is fresh without loading the model. */
  modelRevision(repo: RepoRef): Promise<number | undefined>
  loadModel(repo: RepoRef): Promise<StoredModel | undefined>
  /**
   * Saves a model. With `expectedRevision` (undefined = no model yet) the save only happens if
   * the stored revision is still that one; returns the new revision, or undefined on a conflict.
   * With `force` the model is replaced whatever is stored.
   */
  saveModel(
    repo: RepoRef,
    text: string,
    expectedRevision: number | undefined,
    force?: boolean,
  ): Promise<number | undefined>
  /** Stores (or replaces) the example an issue gave; returns how many examples the repo has. */
  putExample(repo: RepoRef, issue: number, example: TrainingExample): Promise<number>
  listExamples(repo: RepoRef): Promise<{ issue: number; example: TrainingExample }[]>
}

/** `owner/name`, the repo part of every key. */
export function repoKey(repo: RepoRef): string {
  return `${repo.owner}/${repo.name}`
}

export const StoredExample = z.object({ title: z.string(), body: z.string(), label: z.string() })

/**
 * The store in memory, for tests, dry runs and the bench baseline.
 *
 * @example
 *   const store = new MemoryTriageStore()
 */
export class MemoryTriageStore implements TriageStore {
  readonly records = new Map<string, TriageRecord>()
  readonly models = new Map<string, StoredModel>()
  readonly examples = new Map<string, Map<number, TrainingExample>>()

  getRecord(repo: RepoRef, issue: number): Promise<TriageRecord | undefined> {
    const r = this.records.get(`${repoKey(repo)}#${issue}`)
    return Promise.resolve(r && structuredClone(r))
  }

  putRecord(record: TriageRecord): Promise<void> {
    this.records.set(`${record.repo}#${record.issue}`, structuredClone(record))
    return Promise.resolve()
  }

  modelRevision(repo: RepoRef): Promise<number | undefined> {
    return Promise.resolve(this.models.get(repoKey(repo))?.revision)
  }

  loadModel(repo: RepoRef): Promise<StoredModel | undefined> {
    return Promise.resolve(this.models.get(repoKey(repo)))
  }

  saveModel(
    repo: RepoRef,
    text: string,
    expectedRevision: number | undefined,
    force = false,
  ): Promise<number | undefined> {
    const current = this.models.get(repoKey(repo))?.revision
    if (!force && current !== expectedRevision) return Promise.resolve(undefined)
    const revision = (current ?? 0) + 1
    this.models.set(repoKey(repo), { revision, text })
    return Promise.resolve(revision)
  }

  putExample(repo: RepoRef, issue: number, example: TrainingExample): Promise<number> {
    const map = this.examples.get(repoKey(repo)) ?? new Map<number, TrainingExample>()
    map.set(issue, { title: example.title, body: example.body ?? '', label: example.label })
    this.examples.set(repoKey(repo), map)
    return Promise.resolve(map.size)
  }

  listExamples(repo: RepoRef): Promise<{ issue: number; example: TrainingExample }[]> {
    const map = this.examples.get(repoKey(repo)) ?? new Map<number, TrainingExample>()
    return Promise.resolve([...map].map(([issue, example]) => ({ issue, example })))
  }
}
