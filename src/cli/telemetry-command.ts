import { parseArgs } from 'node:util'
import { createRedis, type RedisClient } from '../queue/connection.js'
import {
  newestTelemetryId,
  readTelemetry,
  StreamId,
  TelemetryFilter,
  telemetryStreamKey,
  type StoredTelemetryEvent,
} from '../telemetry/index.js'
import { UsageError, type CliCommand } from './cli-command.js'
import { cliSetup, usage } from './cli-setup.js'
import { learningLines, learningStatus } from './learning-status.js'

/** What `--status` says of forwarding until the sink (issue 14) is built. */
export const NO_SINK = 'not configured (forwarding is not built yet)'

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
  let lastMinute = 0
  let start = String(now - 60_000)
  for (;;) {
    const page = await redis.xrange(key, start, '+', 'COUNT', 1000)
    lastMinute += page.length
    const end = page[page.length - 1]?.[0]
    if (page.length < 1000 || !end) break
    start = `(${end}`
  }
  const firstId = first[0]?.[0]
  const lastId = last[0]?.[0]
  return {
    stream: key,
    length,
    first: firstId ? { id: firstId, at: idTime(firstId) } : null,
    last: lastId ? { id: lastId, at: idTime(lastId) } : null,
    eventsLastMinute: lastMinute,
  }
}

interface TailOptions {
  redis: RedisClient
  prefix: string
  filter: TelemetryFilter
  since: string | undefined
  json: boolean
}

/** Follows the stream until SIGINT or SIGTERM; resolves to 0 once stopped by one. */
async function tail({ redis, prefix, filter, since, json }: TailOptions): Promise<number> {
  let stopping = false
  const stop = () => {
    stopping = true
    // Ends the pending XREAD BLOCK at once rather than after its timeout.
    redis.disconnect()
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  try {
    let cursor = since ?? (await newestTelemetryId(redis, prefix))
    console.error(`following ${telemetryStreamKey(prefix)} after ${cursor} (Ctrl-C to stop)`)
    while (!stopping) {
      const page = await readTelemetry(redis, prefix, cursor, { blockMs: 5000, filter })
      for (const e of page.events) console.log(json ? JSON.stringify(e) : formatEvent(e))
      cursor = page.cursor
    }
    return 0
  } catch (err) {
    if (stopping) return 0
    throw err
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
event after that id first (0: all that is retained). --house, --job and --type filter; each given
one must match.

status: stream length, first and last ids and times, events in the last minute (by Redis's
clock), the retention settings of the telemetry: config section, the sink, and the learning
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
        sink: null,
        sinkStatus: NO_SINK,
        learning: await learningStatus(redis, prefix, setup.config, setup.tools),
      }
      if (values.json) {
        console.log(JSON.stringify(status, null, 2))
        return 0
      }
      const r = status.retention
      console.log(`stream: ${status.stream}`)
      console.log(`length: ${status.length}`)
      console.log(`first: ${status.first ? `${status.first.id} (${status.first.at})` : '-'}`)
      console.log(`last: ${status.last ? `${status.last.id} (${status.last.at})` : '-'}`)
      console.log(`events in the last minute: ${status.eventsLastMinute}`)
      console.log(
        `retention: ${r.enabled ? 'appending' : 'off (nothing is appended)'}, about ${r.maxEvents} events, ${r.maxAgeHours} h, once-keys ${r.onceTtlSeconds} s`,
      )
      console.log(`sink: ${NO_SINK}`)
      for (const line of learningLines(status.learning)) console.log(line)
      return 0
    } finally {
      redis.disconnect()
    }
  },
}
