import type { RedisClient } from '../queue/connection.js'
import type { RepoRef } from '../gitea/port.js'
import { DEFAULT_PREFIX } from '../queue/connection.js'
import { LuaScript } from '../queue/lua-script.js'
import type { TrainingExample } from './model/triage-model.js'
import { repoKey, StoredExample, type StoredModel, type TriageStore } from './triage-store.js'
import { TriageRecord } from './triage-record.js'

// KEYS[1] = model hash; ARGV = expected revision ('' = none yet), text, force ('1'/'0').
// Compare-and-set in one script so two learners never overwrite each other's update.
const SAVE_MODEL = new LuaScript(`
local current = redis.call('HGET', KEYS[1], 'revision')
if ARGV[3] ~= '1' then
  if (current or '') ~= ARGV[1] then return -1 end
end
local next = tonumber(current or '0') + 1
redis.call('HSET', KEYS[1], 'revision', next, 'text', ARGV[2])
return next
`)

function json(raw: string): unknown {
  try {
    return JSON.parse(raw)
  } catch {
    return undefined
  }
}

/**
 * The triage store in Redis. Keys, all under the prefix (default `{uw}`, one Cluster hash tag):
 * - `{uw}:triage:record:<owner>/<name>#<n>`: the record of one issue (JSON);
 * - `{uw}:triage:model:<owner>/<name>`: hash `{ revision, text }`, the repo's serialised model;
 * - `{uw}:triage:examples:<owner>/<name>`: hash issue number -> example JSON (human corrections).
 *
 * @example
 *   const store = new RedisTriageStore(createRedis(config.env.REDIS_URL, 'producer'))
 */
export class RedisTriageStore implements TriageStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = DEFAULT_PREFIX,
  ) {}

  private k(kind: string, rest: string): string {
    return `${this.prefix}:triage:${kind}:${rest}`
  }

  async getRecord(repo: RepoRef, issue: number): Promise<TriageRecord | undefined> {
    const raw = await this.redis.get(this.k('record', `${repoKey(repo)}#${issue}`))
    if (raw === null) return undefined
    // A record from an older or damaged write is treated as absent, not trusted.
    const parsed = TriageRecord.safeParse(json(raw))
    return parsed.success ? parsed.data : undefined
  }

  async putRecord(record: TriageRecord): Promise<void> {
    await this.redis.set(this.k('record', `${record.repo}#${record.issue}`), JSON.stringify(record))
  }

  async modelRevision(repo: RepoRef): Promise<number | undefined> {
    const raw = await this.redis.hget(this.k('model', repoKey(repo)), 'revision')
    return raw === null ? undefined : Number(raw)
  }

  async loadModel(repo: RepoRef): Promise<StoredModel | undefined> {
    const [revision, text] = await this.redis.hmget(this.k('model', repoKey(repo)), 'revision', 'text')
    if (revision === null || revision === undefined || !text) return undefined
    return { revision: Number(revision), text }
  }

  async saveModel(
    repo: RepoRef,
    text: string,
    expectedRevision: number | undefined,
    force = false,
  ): Promise<number | undefined> {
    const result = (await SAVE_MODEL.run(
      this.redis,
      [this.k('model', repoKey(repo))],
      [expectedRevision === undefined ? '' : String(expectedRevision), text, force ? '1' : '0'],
    )) as number
    return result < 0 ? undefined : result
  }

  async putExample(repo: RepoRef, issue: number, example: TrainingExample): Promise<number> {
    const key = this.k('examples', repoKey(repo))
    const value = JSON.stringify({ title: example.title, body: example.body ?? '', label: example.label })
    const [, count] = (await this.redis.multi().hset(key, String(issue), value).hlen(key).exec()) ?? []
    return Number(count?.[1] ?? 0)
  }

  async listExamples(repo: RepoRef): Promise<{ issue: number; example: TrainingExample }[]> {
    const all = await this.redis.hgetall(this.k('examples', repoKey(repo)))
    return Object.entries(all).flatMap(([issue, raw]) => {
      const parsed = StoredExample.safeParse(json(raw))
      return parsed.success ? [{ issue: Number(issue), example: parsed.data }] : []
    })
  }
}
