import type { JobState } from './jobs.js'

/**
 * The listing indexes of job records, for the dashboard's jobs page: sorted sets of job ids scored
 * by creation time (ms), one of every job and one per house, repository, requester and state:
 *
 *   <prefix>:jobs:index:all
 *   <prefix>:jobs:index:house:<house>
 *   <prefix>:jobs:index:repo:<owner>/<name>        (lower case)
 *   <prefix>:jobs:index:requester:<login>          (lower case)
 *   <prefix>:jobs:index:state:<state>
 *
 * They are written by the same Lua scripts that write the records (RedisJobStore: `create` adds
 * the job to all five, every transition that changes `state` moves it between state sets), so a
 * listing never disagrees with the records for longer than a script runs. They are trimmed to the
 * records' lifetime at each create, so they stay bounded by retention.
 */
export const JOB_STATES: readonly JobState[] = [
  'queued',
  'awaiting_approval',
  'running',
  'success',
  'failure',
  'unverified',
  'denied',
  'cancelled',
  'timeout',
]

/** What a listing can be narrowed to; each given field must match. */
export interface JobFilter {
  house?: string
  /** `owner/name`. */
  repo?: string
  /** Who asked for the job's first run (a `/retry` by someone else does not move it). */
  requester?: string
  state?: JobState
}

export function jobIndexKey(prefix: string, kind: 'all'): string
export function jobIndexKey(prefix: string, kind: keyof JobFilter, value: string): string
export function jobIndexKey(prefix: string, kind: 'all' | keyof JobFilter, value = ''): string {
  if (kind === 'all') return `${prefix}:jobs:index:all`
  const v = kind === 'repo' || kind === 'requester' ? value.toLowerCase() : value
  return `${prefix}:jobs:index:${kind}:${v}`
}

/**
 * Lua, prepended to the scripts that change a record's `state` (KEYS[1] is the record,
 * `<prefix>:job:<id>`): `index_state(old, new)` moves the id between the state sets, with its
 * score from the `all` set. The state sets' names are built from KEYS[1]'s prefix, as BullMQ's
 * scripts build job keys from theirs: they share its `{hash tag}`, hence its cluster slot.
 * A record created before the indexes existed is in no set and stays out of them.
 */
export const INDEX_STATE_LUA = `
local function index_state(old, new)
  if not new or old == new then return end
  local p, id = string.match(KEYS[1], '^(.*):job:(.+)$')
  if not p then return end
  local score = redis.call('ZSCORE', p .. ':jobs:index:all', id)
  if not score then return end
  if old then redis.call('ZREM', p .. ':jobs:index:state:' .. cjson.decode(old), id) end
  redis.call('ZADD', p .. ':jobs:index:state:' .. cjson.decode(new), score, id)
end
`

/**
 * Lua for `create` (after the record is written): adds the id to the five sets named in
 * KEYS[3..7] (all, house, repo, requester, state) and trims every set the job is in, and every
 * state set, of ids created before ARGV[4] (ms): those records have expired.
 */
export const INDEX_CREATE_LUA = `
local p = string.match(KEYS[1], '^(.*):job:.+$')
for i = 3, 7 do
  redis.call('ZADD', KEYS[i], ARGV[2], ARGV[3])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. ARGV[4])
end
for _, s in ipairs({${JOB_STATES.map((s) => `'${s}'`).join(', ')}}) do
  redis.call('ZREMRANGEBYSCORE', p .. ':jobs:index:state:' .. s, '-inf', '(' .. ARGV[4])
end
`

/** Where a page of a listing ended: the score and id of its last job. */
export interface JobCursor {
  score: number
  id: string
}

/** `<score>.<id>`: what a "next page" link carries. */
export function cursorText(c: JobCursor): string {
  return `${c.score}.${c.id}`
}

/** The cursor in a link, or undefined when it is not one. */
export function parseCursor(text: string | undefined): JobCursor | undefined {
  const m = /^(\d{1,16})\.([A-Za-z0-9_.-]{1,300})$/.exec(text ?? '')
  return m ? { score: Number(m[1]), id: m[2]! } : undefined
}
