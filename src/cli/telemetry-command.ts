import { parseArgs } from 'node:util'
import { createRedis, type RedisClient } from '../queue/connection.js'
import {
  newestTelemetryId,
  readTelemetry,
  shownSinkUrl,
  sinkBacklog,
  StreamId,
  TelemetryFilter,
  telemetrySeqKey,
  telemetryStreamKey,
  type StoredTelemetryEvent,
  type TelemetrySinkConfig,
} from '../telemetry/index.js'
import { UsageError, type CliCommand } from './cli-command.js'
import { cliSetup, usage } from './cli-setup.js'
import { learningLines, learningStatus } from './learning-status.js'

/** What `--status` says of forwarding without a `telemetry.sink`. */
export const NO_SINK = 'not configured (telemetry.sink)'

/** The windows `--status` gives a rate for, in minutes. */
const RATE_WINDOWS = [1, 5, 15] as const

// Fields every line shows in its own column; the rest follow as key=value.
const COLUMNS = new Set(['id', 'at', 'type', 'house', 'jobId'])

function shortValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]*$/.test(v) && v !== '' ? v : JSON.stringify(v)
  return JSON.stringify(v)
}

/**
 * One terminal line of an event: time, type, house, job, then its other fields.
 *
 * @example
 *   formatEvent(e) // '2026-12-06T03:34:08.123Z job.finished ezra j1 run=1 tool=git_status state=success durationMs=412'
 */
export function formatEvent(e: StoredTelemetryEvent): string {
  const job = 'jobId' in e ? e.jobId : '-'
  const rest = Object.entries(e)
    .filter(([k]) => !COLUMNS.has(k))
    .map(([k, v]) => `${k}=${shortValue(v)}`)
  return [e.at, e.type, e.house, job, ...rest].join(' ')
}

/** Orders two stream ids (`<ms>-<seq>`). */
function compareIds(a: string, b: string): number {
  const [am = 0n, as = 0n] = a.split('-').map(BigInt)
  const [bm = 0n, bs = 0n] = b.split('-').map(BigInt)
  return am !== bm ? (am < bm ? -1 : 1) : as < bs ? -1 : as > bs ? 1 : 0
}

/**
 * When `cursor` is older than the oldest retained event and retention has trimmed events, the
 * oldest retained id and how many events were trimmed in all (XINFO STREAM, Redis 7); else
 * undefined.
 */
async function olderThanRetained(
  redis: RedisClient,
  prefix: string,
  cursor: string,
): Promise<{ first: string; trimmed: number } | undefined> {
  if (/^0(-0)?$/.test(cursor)) return undefined
  const info = (await redis.xinfo('STREAM', telemetryStreamKey(prefix)).catch(() => [])) as unknown[]
  const get = (name: string) => {
    const i = info.indexOf(name)
    return i >= 0 && i % 2 === 0 ? info[i + 1] : undefined
  }
  const first = get('recorded-first-entry-id')
  const trimmed = Number(get('entries-added')) - Number(get('length'))
  if (typeof first !== 'string' || !(trimmed > 0) || compareIds(cursor, first) >= 0) return undefined
  return { first, trimmed }
}

/** Events per minute over the last 1, 5 and 15 minutes (by Redis's clock), from the events' numbers. */
async function eventsPerMinute(redis: RedisClient, prefix: string, now: number) {
  const key = telemetryStreamKey(prefix)
  const seq = Number((await redis.get(telemetrySeqKey(prefix))) ?? 0)
  const rates: Record<string, number> = {}
  for (const minutes of RATE_WINDOWS) {
    const first = (await redis.xrange(key, String(now - minutes * 60_000), '+', 'COUNT', 1))[0]
    const i = first?.[1].indexOf('n') ?? -1
    const n = first && i >= 0 && i % 2 === 0 ? Number(first[1][i + 1]) : undefined
    // Numbered events: a subtraction. Older ones (appended before numbers existed): counted.
    const count = !first ? 0 : n ? seq - n + 1 : await countSince(redis, key, now - minutes * 60_000)
    rates[`last${minutes}m`] = Math.round((count / minutes) * 10) / 10
  }
  return rates
}

async function countSince(redis: RedisClient, key: string, from: number): Promise<number> {
  let count = 0
  let start = String(from)
  for (;;) {
    const page = await redis.xrange(key, start, '+', 'COUNT', 1000)
    count += page.length
    const end = page[page.length - 1]?.[0]
    if (page.length < 1000 || !end) return count
    start = `(${end}`
  }
}

/** Forwarding as `--status` shows it: the sink, the last acknowledged id, lag, buffer, gaps, holder. */
async function sinkStatus(redis: RedisClient, prefix: string, sink: TelemetrySinkConfig) {
  const b = await sinkBacklog(redis, prefix)
  return {
    url: shownSinkUrl(sink.url),
    lastAcknowledged: b.acked ? { id: b.acked.id, at: b.acked.at } : null,
    lagSeconds: Math.round(b.lagSeconds * 1000) / 1000,
    bufferEvents: b.depth,
    forwarded: b.forwarded,
    gaps: b.gaps,
    gapEvents: b.gapEvents,
    lastGap: b.lastGap,
    forwarder: b.lease,
  }
}

function idTime(id: string | undefined): string | undefined {
  return id ? new Date(Number(id.split('-')[0])).toISOString() : undefined
}

/** The stream's numbers for `--status`, read without changing anything. */
async function streamStatus(redis: RedisClient, prefix: string) {
  const key = telemetryStreamKey(prefix)
  const [length, first, last, time] = await Promise.all([
    redis.xlen(key),
    redis.xrange(key, '-', '+', 'COUNT', 1),
    redis.xrevrange(key, '+', '-', 'COUNT', 1),
    redis.time(),
  ])
  // Ids are Redis's clock in ms, so "the last minute" is counted against Redis's clock too.
  const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000)
  const lastMinute = await countSince(redis, key, now - 60_000)
  const firstId = first[0]?.[0]
  const lastId = last[0]?.[0]
  return {
    stream: key,
    length,
    first: firstId ? { id: firstId, at: idTime(firstId) } : null,
    last: lastId ? { id: lastId, at: idTime(lastId) } : null,
    eventsLastMinute: lastMinute,
    eventsPerMinute: await eventsPerMinute(redis, prefix, now),
  }
}

interface TailOptions {
  redis: RedisClient
  prefix: string
  filter: TelemetryFilter
  since: string | undefined
  json: boolean
}

/** Says so on stderr when `cursor` is older than what is retained: events after it may be gone. */
async function noticeTrimmed(redis: RedisClient, prefix: string, cursor: string): Promise<void> {
  const older = await olderThanRetained(redis, prefix, cursor)
  if (older)
    console.error(
      `notice: ${cursor} is older than the oldest retained event ${older.first}; events between them are no longer retained ` +
        `(the telemetry: retention has trimmed ${older.trimmed} events in all); continuing from ${older.first}`,
    )
}

/**
 * Follows the stream until SIGINT or SIGTERM; resolves to 0 once stopped by one. A lost
 * connection is retried (with backoff, saying so on stderr) from the last id read, so nothing is
 * printed twice and nothing still retained is missed.
 */
async function tail({ redis, prefix, filter, since, json }: TailOptions): Promise<number> {
  let stopping = false
  let wake: (() => void) | undefined
  const stop = () => {
    stopping = true
    wake?.()
    // Ends the pending XREAD BLOCK at once rather than after its timeout.
    redis.disconnect()
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  try {
    let cursor = since ?? (await newestTelemetryId(redis, prefix))
    console.error(`following ${telemetryStreamKey(prefix)} after ${cursor} (Ctrl-C to stop)`)
    if (since !== undefined) await noticeTrimmed(redis, prefix, cursor)
    let failures = 0
    while (!stopping) {
      try {
        if (failures > 0) await noticeTrimmed(redis, prefix, cursor)
        const page = await readTelemetry(redis, prefix, cursor, { blockMs: 5000, filter })
        if (failures > 0) console.error(`reconnected; following after ${cursor}`)
        failures = 0
        for (const e of page.events) console.log(json ? JSON.stringify(e) : formatEvent(e))
        cursor = page.cursor
      } catch (err) {
        if (stopping) break
        failures++
        const delay = Math.min(5000, 250 * 2 ** Math.min(failures - 1, 5))
        if (failures === 1 || failures % 10 === 0)
          console.error(
            `connection lost (${err instanceof Error ? err.message : String(err)}); retrying from ${cursor} in ${delay} ms`,
          )
        await new Promise<void>((r) => {
          const t = setTimeout(r, delay)
          wake = () => {
            clearTimeout(t)
            r()
          }
        })
      }
    }
    return 0
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
  }
}

/** `uni-wizard telemetry tail` and `uni-wizard telemetry --status`. */
export const telemetryCommand: CliCommand = {
  name: 'telemetry',
  summary: 'follow the telemetry stream (tail) or show its state (--status)',
  usage: `usage: uni-wizard telemetry tail [--house <h>] [--job <id>] [--type <t>[,<t>...]] [--since <id>] [--json] [--prefix <p>]
       uni-wizard telemetry --status [--json] [--prefix <p>]     (or: telemetry status)

Reads the Redis stream <prefix>:telemetry directly (REDIS_URL; the prefix is UW_PREFIX, default
{uw}, or --prefix). See docs/TELEMETRY.md.

tail: prints one line per event (time, type, house, job, then the event's other fields), or the
event as one JSON object per line with --json, and follows new events until SIGINT or SIGTERM
(exit 0). Without --since it starts after the newest event; --since <id> replays every retained
event after that id first (0: all that is retained; a notice says when events after it were
already trimmed). --house, --job and --type filter; each given one must match. A lost connection
is retried from the last id read: nothing is printed twice or skipped.

status: stream length, first and last ids and times, events per minute over the last 1, 5 and 15
minutes (by Redis's clock), the retention settings of the telemetry: config section, and the sink:
its URL, the last acknowledged id, lag, buffer depth, gaps and which process forwards, and the learning
velocity per house and tool (docs/INTELLIGENCE.md).

exit: 0 ok (tail: stopped by a signal), 1 failure (no REDIS_URL, Redis away), 2 usage

examples:
  uni-wizard telemetry tail --house ezra --type job.finished,report.posted
  uni-wizard telemetry tail --since 0 --json | jq .
  uni-wizard telemetry --status`,
  async run(argv) {
    const { values, positionals } = usage(() =>
      parseArgs({
        args: argv,
        allowPositionals: true,
        strict: true,
        options: {
          status: { type: 'boolean', default: false },
          house: { type: 'string' },
          job: { type: 'string' },
          type: { type: 'string' },
          since: { type: 'string' },
          json: { type: 'boolean', default: false },
          prefix: { type: 'string' },
        },
      }),
    )
    const [sub, ...extra] = positionals
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`)
    const isStatus = values.status || sub === 'status'
    if (values.status && sub !== undefined && sub !== 'status')
      throw new UsageError(`--status takes no subcommand (got "${sub}")`)
    if (!isStatus && sub !== 'tail')
      throw new UsageError('the subcommand is `tail` or `status` (or --status)')
    const filterInput = { house: values.house, job: values.job, type: values.type }
    if (isStatus) {
      const given = Object.entries({ ...filterInput, since: values.since }).find(([, v]) => v !== undefined)
      if (given) throw new UsageError(`--${given[0]} is an option of tail, not of --status`)
    }
    const filter = TelemetryFilter.safeParse(
      Object.fromEntries(Object.entries(filterInput).filter(([, v]) => v !== undefined)),
    )
    if (!filter.success) {
      const issue = filter.error.issues[0]
      throw new UsageError(`--${String(issue?.path[0] ?? 'filter')}: ${issue?.message ?? 'invalid'}`)
    }
    if (values.since !== undefined) {
      const since = StreamId.safeParse(values.since)
      if (!since.success) throw new UsageError(`--since: ${since.error.issues[0]?.message ?? 'invalid'}`)
    }

    const setup = cliSetup({ useRedis: false })
    const prefix = values.prefix ?? setup.config.env.UW_PREFIX
    const url = setup.config.env.REDIS_URL
    if (!url) {
      console.error('uni-wizard telemetry: REDIS_URL is not set; the stream lives in Redis')
      return 1
    }
    // A producer connection (fails fast when Redis is away) that still waits for its first connect.
    const redis = createRedis(url, 'producer', {
      enableOfflineQueue: true,
      connectionName: 'uw-telemetry-cli',
    })
    try {
      if (!isStatus)
        return await tail({ redis, prefix, filter: filter.data, since: values.since, json: values.json })
      const t = setup.config.file.telemetry
      const status = {
        ...(await streamStatus(redis, prefix)),
        retention: {
          enabled: t.enabled,
          maxEvents: t.maxEvents,
          maxAgeHours: t.maxAgeHours,
          onceTtlSeconds: t.onceTtlSeconds,
        },
        sink: t.sink ? await sinkStatus(redis, prefix, t.sink) : null,
        learning: await learningStatus(redis, prefix, setup.config, setup.tools),
      }
      if (values.json) {
        console.log(JSON.stringify(status, null, 2))
        return 0
      }
      const r = status.retention
      const rate = status.eventsPerMinute
      console.log(`stream: ${status.stream}`)
      console.log(`length: ${status.length}`)
      console.log(`first: ${status.first ? `${status.first.id} (${status.first.at})` : '-'}`)
      console.log(`last: ${status.last ? `${status.last.id} (${status.last.at})` : '-'}`)
      console.log(`events in the last minute: ${status.eventsLastMinute}`)
      console.log(
        `events per minute: ${rate.last1m} (1 min), ${rate.last5m} (5 min), ${rate.last15m} (15 min)`,
      )
      console.log(
        `retention: ${r.enabled ? 'appending' : 'off (nothing is appended)'}, about ${r.maxEvents} events, ${r.maxAgeHours} h, once-keys ${r.onceTtlSeconds} s`,
      )
      const k = status.sink
      if (!k) console.log(`sink: ${NO_SINK}`)
      else {
        console.log(`sink: ${k.url}`)
        console.log(
          `last acknowledged: ${k.lastAcknowledged ? `${k.lastAcknowledged.id} (${k.lastAcknowledged.at ?? '?'})` : 'nothing yet'}`,
        )
        console.log(`lag: ${k.lagSeconds} s, buffer: ${k.bufferEvents} events`)
        console.log(
          `forwarded: ${k.forwarded} events; gaps: ${k.gaps}${k.gaps > 0 ? ` (${k.gapEvents} events trimmed before the sink had them; last ${k.lastGap ? `after ${k.lastGap.after}, before ${k.lastGap.before}` : '?'})` : ''}`,
        )
        console.log(
          `forwarder: ${k.forwarder ? `${k.forwarder.owner} (lease ${k.forwarder.fence}, ${Math.ceil(k.forwarder.ttlMs / 1000)} s left)` : 'none holds the lease (no serve with this sink is running)'}`,
        )
      }
      for (const line of learningLines(status.learning)) console.log(line)
      return 0
    } finally {
      redis.disconnect()
    }
  },
}
