import type { ChainableCommander, Cluster, Redis } from 'ioredis'
import { z } from 'zod'
import type { RepoRef } from '../gitea/port.js'
import { DEFAULT_PREFIX } from '../queue/connection.js'
import { LuaScript } from '../queue/lua-script.js'
import { checkoutTargetText, type JobState, type JobView, type JobsView } from './jobs.js'
import { CheckoutTarget } from '../checkouts/checkout-request.js'
import { INDEX_CREATE_LUA, INDEX_STATE_LUA, JOB_STATES, jobIndexKey } from './job-index.js'

const JobStateName = z.enum(JOB_STATES as [JobState, ...JobState[]])

const Sha = z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/)

/**
 * Where a job works (`JobCheckout` in src/effects/effects.ts), as the record keeps it: the target
 * is parsed with the checkout module's own schema (refs as GitRefName, full commit ids).
 */
export const JobCheckoutRecord = z.object({
  cloneUrl: z.string().url(),
  target: CheckoutTarget,
  /** The repository's default branch, for a pull request or ref target (settings are read from it). */
  defaultBranch: z.string().min(1).optional(),
})

/**
 * Everything known about one job, kept in Redis (`<prefix>:job:<id>`, a hash of JSON fields) for
 * `/status` in any state, the reporter and the workers. Parsed with zod on every read: Redis is a
 * trust boundary between processes of different versions.
 */
export const JobRecord = z.object({
  id: z.string().min(1),
  /** BullMQ id of the current run: the job id, then `<id>.<retry key>` per `/retry`. */
  runId: z.string().min(1),
  /** 1 for the first run, +1 per `/retry`. */
  run: z.number().int().min(1),
  state: JobStateName,
  house: z.string().min(1),
  tool: z.string().min(1),
  args: z.record(z.string(), z.string()),
  mode: z.enum(['SIMPLE', 'INTELLIGENT', 'SOVEREIGN']),
  dryRun: z.boolean(),
  /** Who asked for the current run: the author of the command, or of the `/retry` that started it. */
  requester: z.object({ login: z.string(), id: z.number() }),
  /** Who asked for the first run, once a `/retry` by someone made them the requester. */
  firstRequester: z.object({ login: z.string(), id: z.number() }).optional(),
  origin: z.object({
    deliveryId: z.string(),
    repo: z.object({ owner: z.string(), name: z.string() }),
    issue: z.number().int(),
    commentId: z.number().int().optional(),
    commentUrl: z.string(),
    command: z.string(),
  }),
  approvalRequired: z.boolean(),
  approvers: z.array(z.string()),
  /** Whether the requester may approve their own job; absent in records written before it existed. */
  allowSelfApproval: z.boolean().optional(),
  approvalTtlSeconds: z.number().int().positive(),
  houseReason: z.string().optional(),
  /** INTELLIGENT mode: the prediction shown in the ack when the job was queued (plain text). */
  prediction: z.string().max(2000).optional(),
  /** sha256 of house, tool, args and mode: what an approval is bound to. */
  digest: z.string(),
  ackCommentKey: z.string(),
  ackCommentId: z.number().int().optional(),
  createdAt: z.string(),
  /** Until when a request for approval holds. */
  expiresAt: z.string().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  /** Why the job ended so, when a person or the system ended it (`denied by @timmy: too risky`). */
  reason: z.string().optional(),
  /** The harness approval, as JSON, once a sovereign approved this run. */
  approval: z.unknown().optional(),
  approvedBy: z.object({ by: z.string(), at: z.string() }).optional(),
  /** Set by `/cancel` while the job runs; the worker that holds it aborts. */
  cancelRequestedBy: z.string().optional(),
  /** `/retry` keys already applied, so a retried delivery does not start another run. */
  retryKeys: z.array(z.string()),
  /** The checkout the job runs in (absent for a house working in its static `workspaceRoots`). */
  checkout: JobCheckoutRecord.optional(),
  /**
   * The commit the current run's checkout is at, set by the worker once the checkout is made.
   * For a pull request it can differ from `checkout.target.headSha` when the PR was force-pushed
   * between the comment and the checkout; the final commit status goes on this one.
   */
  commit: Sha.optional(),
  /** The run continued local work in its issue workspace: `commit` is that work's (not pushed). */
  continued: z.boolean().optional(),
  /**
   * What a running agent job waits for a sovereign to decide (an agent's approval request, a
   * write leaving the checkout, the diff of an implementation): `/approve <job>` or `/deny <job>`
   * answers it while the job keeps running. `digest` is what an approval is bound to.
   */
  pendingApproval: z
    .object({
      id: z.string().min(1).max(200),
      what: z.string().max(1000),
      digest: z.string().min(1),
      askedAt: z.string(),
      expiresAt: z.string(),
    })
    .optional(),
  /** The answer to `pendingApproval` (same `id`), with the router's attestation when approved. */
  answer: z
    .object({
      id: z.string().min(1).max(200),
      decision: z.enum(['approve', 'deny']),
      by: z.string(),
      at: z.string(),
      reason: z.string().optional(),
      approval: z.unknown().optional(),
    })
    .optional(),
})
export type JobRecord = z.infer<typeof JobRecord>

/** Fields a transition may set; `null` deletes a field. */
export type JobPatch = { [K in keyof JobRecord]?: JobRecord[K] | null }

/** Default lifetime of a job record: as long as the ledger remembers its comments. */
export const JOB_TTL_SECONDS = 30 * 24 * 3600

// Field values are JSON written by this module; the scripts only compare and copy strings, so
// Lua's cjson (which turns [] into {}) never touches them.
// KEYS: record, issue index, then the listing indexes (job-index.ts: all, house, repo, requester,
// state). ARGV: ttl, created (ms), id, trim-below (ms), then field/value pairs.
const CREATE = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[1])
${INDEX_CREATE_LUA}
return 1
`)

const TRANSITION = new LuaScript(`${INDEX_STATE_LUA}
local cur = redis.call('HGET', KEYS[1], 'state')
if not cur then return -1 end
local n = tonumber(ARGV[1])
local ok = n == 0
for i = 2, n + 1 do if ARGV[i] == cur then ok = true end end
if not ok then return 0 end
for i = n + 2, #ARGV, 2 do
  if ARGV[i + 1] == '' then redis.call('HDEL', KEYS[1], ARGV[i])
  else redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
index_state(cur, redis.call('HGET', KEYS[1], 'state'))
return redis.call('HGETALL', KEYS[1])
`)

// TRANSITION plus one write to the run's progress hash (KEYS[2]) in the same script, so a worker
// pays one round trip, not three (HSETNX, EXPIRE, transition), to start or end a run.
// ARGV: ttl, field, value, when ('always': before the check; 'ok': only if the transition
// applies), the run id the record must be on (JSON; '' for any), then TRANSITION's arguments.
// The run id check keeps a late worker of an earlier run (its lock lost, the job retried since)
// from ending the current run.
const TRANSITION_RUN = new LuaScript(`${INDEX_STATE_LUA}
local function mark()
  redis.call('HSETNX', KEYS[2], ARGV[2], ARGV[3])
  redis.call('EXPIRE', KEYS[2], ARGV[1])
end
if ARGV[4] == 'always' then mark() end
local cur = redis.call('HGET', KEYS[1], 'state')
if not cur then return -1 end
if ARGV[5] ~= '' and redis.call('HGET', KEYS[1], 'runId') ~= ARGV[5] then return 0 end
local n = tonumber(ARGV[6])
local ok = n == 0
for i = 7, n + 6 do if ARGV[i] == cur then ok = true end end
if not ok then return 0 end
for i = n + 7, #ARGV, 2 do
  if ARGV[i + 1] == '' then redis.call('HDEL', KEYS[1], ARGV[i])
  else redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
index_state(cur, redis.call('HGET', KEYS[1], 'state'))
if ARGV[4] == 'ok' then mark() end
return redis.call('HGETALL', KEYS[1])
`)

// A worker taking a run: reads the record and the run's progress and, when the run can simply
// start (current run, queued or running, this tool, not a dry run, no result yet, no cancel
// request, and not a write that was started before), moves the record to `running` and marks the
// run started, all in one round trip. Otherwise it changes nothing and the worker decides from
// what it read. ARGV: ttl, run id, tool (both JSON), write (1/0), started mark, then field/value
// pairs to set. Replies {applied, record (HGETALL), started mark or '', result or ''}.
const PICK_UP = new LuaScript(`${INDEX_STATE_LUA}
local started = redis.call('HGET', KEYS[2], 'started') or ''
local result = redis.call('HGET', KEYS[2], 'result') or ''
local f = redis.call('HMGET', KEYS[1], 'runId', 'state', 'tool', 'dryRun', 'cancelRequestedBy')
if f[1] == ARGV[2] and (f[2] == '"queued"' or f[2] == '"running"') and f[3] == ARGV[3]
  and f[4] ~= 'true' and not f[5] and result == '' and not (started ~= '' and ARGV[4] == '1') then
  for i = 6, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
  index_state(f[2], redis.call('HGET', KEYS[1], 'state'))
  redis.call('HSETNX', KEYS[2], 'started', ARGV[5])
  redis.call('EXPIRE', KEYS[2], ARGV[1])
  return {1, redis.call('HGETALL', KEYS[1]), started, result}
end
return {0, redis.call('HGETALL', KEYS[1]), started, result}
`)

/** A record from the flat HGETALL reply a script returned (also in a MULTI's results); undefined for any other reply. */
export function recordFromReply(r: unknown): JobRecord | undefined {
  if (!Array.isArray(r)) return undefined
  const fields: [string, string][] = []
  for (let i = 0; i + 1 < r.length; i += 2) fields.push([String(r[i]), String(r[i + 1])])
  return parseRecord(fields)
}

/** A record from its hash fields (JSON values); undefined when empty or unreadable. */
function parseRecord(fields: readonly [string, string][]): JobRecord | undefined {
  if (fields.length === 0) return undefined
  const obj: Record<string, unknown> = {}
  for (const [k, v] of fields) {
    try {
      obj[k] = JSON.parse(v)
    } catch {
      return undefined
    }
  }
  const parsed = JobRecord.safeParse(obj)
  return parsed.success ? parsed.data : undefined
}

/** What a worker recorded about one run, so a re-delivered run never repeats a write. */
export interface RunProgress {
  /** Worker and time it started the tool. */
  started: { worker: string; at: string } | undefined
  /** The stored result (JSON), once the tool finished. */
  result: string | undefined
}

/**
 * Job records and run progress in Redis. All keys live under one `{hash tag}` prefix, so the
 * multi-key scripts also work on a Redis Cluster.
 *
 * @example
 *   const store = new RedisJobStore(redis)
 *   const job = await store.get('j0123456789ab')
 */
export class RedisJobStore implements JobsView {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefix = DEFAULT_PREFIX,
    private readonly ttlSeconds = JOB_TTL_SECONDS,
  ) {}

  private key(id: string): string {
    return `${this.prefix}:job:${id}`
  }

  private issueKey(repo: RepoRef, issue: number): string {
    return `${this.prefix}:jobs:${repo.owner}/${repo.name}#${issue}`
  }

  private runKey(runId: string): string {
    return `${this.prefix}:run:${runId}`
  }

  /** Stores a new record; false (and nothing written) when the id exists. */
  async create(record: JobRecord): Promise<boolean> {
    const fields = Object.entries(JobRecord.parse(record)).filter(([, v]) => v !== undefined)
    const argv = fields.flatMap(([k, v]) => [k, JSON.stringify(v)])
    const createdMs = Date.parse(record.createdAt)
    const { owner, name } = record.origin.repo
    const created = await CREATE.run(
      this.redis,
      [
        this.key(record.id),
        this.issueKey(record.origin.repo, record.origin.issue),
        jobIndexKey(this.prefix, 'all'),
        jobIndexKey(this.prefix, 'house', record.house),
        jobIndexKey(this.prefix, 'repo', `${owner}/${name}`),
        jobIndexKey(this.prefix, 'requester', record.requester.login),
        jobIndexKey(this.prefix, 'state', record.state),
      ],
      [
        String(this.ttlSeconds),
        String(createdMs),
        record.id,
        // Records created this long ago have expired: their ids leave the listing indexes.
        String(Math.max(0, Date.now() - this.ttlSeconds * 1000)),
        ...argv,
      ],
    )
    return Number(created) === 1
  }

  /** The record, or undefined when unknown or unreadable. */
  async getRecord(id: string): Promise<JobRecord | undefined> {
    return parseRecord(Object.entries(await this.redis.hgetall(this.key(id))))
  }

  /**
   * Applies `patch` only when the job is in one of `from` (any state when empty), atomically.
   * Resolves to the record afterwards, or undefined when the job was not in one of `from`.
   */
  async transition(id: string, from: readonly JobState[], patch: JobPatch): Promise<JobRecord | undefined> {
    // The script answers with the record as it left it (HGETALL), saving a read per transition.
    const r = await TRANSITION.run(this.redis, [this.key(id)], this.transitionArgs(from, patch))
    return recordFromReply(r)
  }

  private transitionArgs(from: readonly JobState[], patch: JobPatch): string[] {
    const argv = Object.entries(patch).flatMap(([k, v]) => [k, v === null ? '' : JSON.stringify(v)])
    return [String(from.length), ...from.map((s) => JSON.stringify(s)), ...argv]
  }

  /**
   * `transition`, and marking the run started, in one atomic step: the mark is written only when
   * the transition applies, which also needs the record to be on run `started.runId`. Same as
   * `transition` then `markStarted`, one round trip instead of three.
   */
  async startRun(
    id: string,
    from: readonly JobState[],
    patch: JobPatch,
    started: { runId: string; worker: string; at: string },
  ): Promise<JobRecord | undefined> {
    const mark = JSON.stringify({ worker: started.worker, at: started.at })
    const { keys, args } = this.transitionRunCall(id, started.runId, ['started', mark, 'ok'], from, patch)
    return recordFromReply(await TRANSITION_RUN.run(this.redis, keys, args))
  }

  /**
   * Stores the run's result (once; a later call keeps the first), then applies the transition if
   * the record is still on run `ended.runId` (a late worker of an earlier run must not end a
   * retried one), atomically: the result is stored even when the transition does not apply. Same
   * as `setResult` then `transition`, one round trip instead of three.
   */
  async endRun(
    id: string,
    from: readonly JobState[],
    patch: JobPatch,
    ended: { runId: string; result: string },
  ): Promise<JobRecord | undefined> {
    const { keys, args } = this.transitionRunCall(
      id,
      ended.runId,
      ['result', ended.result, 'always'],
      from,
      patch,
    )
    return recordFromReply(await TRANSITION_RUN.run(this.redis, keys, args))
  }

  /**
   * Keys and arguments of TRANSITION_RUN on run `runId` of job `id`: `mark` is the progress field,
   * its value and when it is written ('ok': only if the transition applies; 'always').
   */
  private transitionRunCall(
    id: string,
    runId: string,
    mark: [field: string, value: string, when: 'ok' | 'always'],
    from: readonly JobState[],
    patch: JobPatch,
  ): { keys: string[]; args: string[] } {
    return {
      keys: [this.key(id), this.runKey(runId)],
      args: [String(this.ttlSeconds), ...mark, JSON.stringify(runId), ...this.transitionArgs(from, patch)],
    }
  }

  /**
   * A worker taking run `runId` of job `id` for `tool`: one round trip that reads the record
   * and the run's progress and, when the run can simply start, also moves the record to
   * `running` (with `startedAt`) and marks the run started by `worker` (the first mark is
   * kept). It can simply start when it is the record's current run, queued or running, for this
   * tool, not a dry run, with no stored result and no cancel request, and, for a write (`write`),
   * not started before. `started` says whether that happened; otherwise nothing changed and the
   * caller decides from `record` and `progress` (same as `getRecord` plus `progress`).
   */
  async pickUp(
    id: string,
    run: { runId: string; tool: string; write: boolean; worker: string; at: string },
  ): Promise<{ started: boolean; record: JobRecord | undefined; progress: RunProgress }> {
    const mark = JSON.stringify({ worker: run.worker, at: run.at })
    const r = (await PICK_UP.run(
      this.redis,
      [this.key(id), this.runKey(run.runId)],
      [
        String(this.ttlSeconds),
        JSON.stringify(run.runId),
        JSON.stringify(run.tool),
        run.write ? '1' : '0',
        mark,
        'state',
        JSON.stringify('running'),
        'startedAt',
        JSON.stringify(run.at),
      ],
    )) as [number, unknown, string, string]
    return {
      started: Number(r[0]) === 1,
      record: recordFromReply(r[1]),
      progress: progressOf(r[2] || null, r[3] || null),
    }
  }

  /**
   * `endRun` queued on a MULTI or pipeline instead of sent alone, so it commits with the other
   * commands queued there (the house worker queues the final report beside it). Its reply, at the
   * position it was queued, is read with `recordFromReply`.
   */
  queueEndRun(
    multi: ChainableCommander,
    id: string,
    from: readonly JobState[],
    patch: JobPatch,
    ended: { runId: string; result: string },
  ): void {
    const { keys, args } = this.transitionRunCall(
      id,
      ended.runId,
      ['result', ended.result, 'always'],
      from,
      patch,
    )
    TRANSITION_RUN.addTo(multi, keys, args)
  }

  async get(id: string): Promise<JobView | undefined> {
    const r = await this.getRecord(id)
    return r ? toView(r) : undefined
  }

  async listForIssue(repo: RepoRef, issue: number): Promise<JobView[]> {
    const ids = await this.redis.zrevrange(this.issueKey(repo, issue), 0, 99)
    const records = await Promise.all(ids.map((id) => this.getRecord(id)))
    return records.filter((r): r is JobRecord => r !== undefined).map(toView)
  }

  /** Marks a run as started by a worker; false when it was already marked (a re-delivery). */
  async markStarted(runId: string, worker: string, at: string): Promise<boolean> {
    const k = this.runKey(runId)
    const res = await this.redis
      .multi()
      .hsetnx(k, 'started', JSON.stringify({ worker, at }))
      .expire(k, this.ttlSeconds)
      .exec()
    const err = res?.find(([e]) => e)?.[0]
    if (err) throw err
    return res?.[0]?.[1] === 1
  }

  /** Stores a run's result once; later calls keep the first. */
  async setResult(runId: string, result: string): Promise<void> {
    const k = this.runKey(runId)
    const res = await this.redis.multi().hsetnx(k, 'result', result).expire(k, this.ttlSeconds).exec()
    const err = res?.find(([e]) => e)?.[0]
    if (err) throw err
  }

  /**
   * Appends one event of an agent run to its log (`<prefix>:run:<runId>:events`, a list kept as
   * long as the run's record). Resolves to the event's position (1-based).
   */
  async appendAgentEvent(runId: string, line: string): Promise<number> {
    const k = `${this.runKey(runId)}:events`
    const res = await this.redis.multi().rpush(k, line).expire(k, this.ttlSeconds).exec()
    const err = res?.find(([e]) => e)?.[0]
    if (err) throw err
    return Number(res?.[0]?.[1] ?? 0)
  }

  /** An agent run's event log, in order (JSON lines as appended). */
  async agentEvents(runId: string): Promise<string[]> {
    return this.redis.lrange(`${this.runKey(runId)}:events`, 0, -1)
  }

  /**
   * Keeps the task an agent run was started with (its prompt, JSON), the first time only, so a
   * worker that takes the run over resumes it with the same request (Hermes keys the run on it).
   * Resolves to what is stored: this task, or the one stored first.
   */
  async keepAgentTask(runId: string, task: string): Promise<string> {
    const k = this.runKey(runId)
    const res = await this.redis
      .multi()
      .hsetnx(k, 'task', task)
      .expire(k, this.ttlSeconds)
      .hget(k, 'task')
      .exec()
    const err = res?.find(([e]) => e)?.[0]
    if (err) throw err
    return (res?.[2]?.[1] as string | null) ?? task
  }

  /** Sets the agent checklist the ack comment shows while the run goes on (JSON, replaced whole). */
  async setAgentSteps(runId: string, steps: string): Promise<void> {
    const k = this.runKey(runId)
    const res = await this.redis.multi().hset(k, 'steps', steps).expire(k, this.ttlSeconds).exec()
    const err = res?.find(([e]) => e)?.[0]
    if (err) throw err
  }

  /** The agent checklist of a run, if it has one. */
  async agentSteps(runId: string): Promise<string | undefined> {
    return (await this.redis.hget(this.runKey(runId), 'steps')) ?? undefined
  }

  async progress(runId: string): Promise<RunProgress> {
    const [started, result] = await this.redis.hmget(this.runKey(runId), 'started', 'result')
    return progressOf(started, result)
  }
}

function progressOf(started: string | null | undefined, result: string | null | undefined): RunProgress {
  let s: RunProgress['started']
  try {
    s = started ? (JSON.parse(started) as RunProgress['started']) : undefined
  } catch {
    s = undefined
  }
  return { started: s, result: result ?? undefined }
}

/**
 * What commands see of a record.
 *
 * @example
 *   toView(record).state // 'queued'
 */
export function toView(r: JobRecord): JobView {
  return {
    id: r.id,
    state: r.state,
    house: r.house,
    tool: r.tool,
    requester: r.requester.login,
    digest: r.digest,
    ackCommentId: r.ackCommentId,
    repo: r.origin.repo,
    issue: r.origin.issue,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    approvedBy: r.approvedBy?.by,
    approvers: r.approvers,
    allowSelfApproval: r.allowSelfApproval ?? false,
    retryKeys: r.retryKeys,
    ...(r.pendingApproval
      ? {
          pendingApproval: {
            id: r.pendingApproval.id,
            what: r.pendingApproval.what,
            digest: r.pendingApproval.digest,
          },
        }
      : {}),
    ...(r.checkout && { checkout: { target: checkoutTargetText(r.checkout.target), commit: r.commit } }),
    command: r.origin.command,
  }
}
