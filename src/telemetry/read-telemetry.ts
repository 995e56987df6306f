import { z } from 'zod'
import type { RedisClient } from '../queue/connection.js'
import {
  TELEMETRY_TYPES,
  TelemetryEvent,
  type StoredTelemetryEvent,
  type TelemetryType,
} from './telemetry-event.js'
import { telemetryStreamKey } from './telemetry-keys.js'

/** A Redis stream id as `Last-Event-ID` and `?since=` give it: `<ms>-<seq>` (or `<ms>`). */
export const StreamId = z
  .string()
  .regex(/^\d{1,16}(-\d{1,16})?$/, 'a telemetry event id such as 1718000000000-0 (0 for the oldest retained)')

/** Which events a reader wants; each given field must match. */
export const TelemetryFilter = z
  .object({
    house: z.string().min(1).max(100).optional(),
    job: z.string().min(1).max(300).optional(),
    /** One type or several, comma-separated. */
    type: z
      .string()
      .transform((s) => s.split(',').map((t) => t.trim()))
      .pipe(
        z.array(
          z.enum(TELEMETRY_TYPES as [TelemetryType, ...TelemetryType[]], {
            message: `an event type: ${TELEMETRY_TYPES.join(', ')}`,
          }),
        ),
      )
      .optional(),
  })
  .strict()
export type TelemetryFilter = z.infer<typeof TelemetryFilter>

/** A page of the stream: the events that match, and the id to read after next time. */
export interface TelemetryPage {
  events: StoredTelemetryEvent[]
  /** The last id read (matching or not); unchanged when nothing was read. */
  cursor: string
}

type Entry = [id: string, fields: string[]]

/** One field of a stream entry (its fields alternate name, value). */
function field(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1]
  return undefined
}

function toEvent(entry: Entry): StoredTelemetryEvent | undefined {
  const [id, fields] = entry
  const data = field(fields, 'data')
  if (data === undefined) return undefined
  try {
    const parsed = TelemetryEvent.safeParse(JSON.parse(data))
    if (!parsed.success) return undefined
    return { ...parsed.data, id, at: new Date(Number(id.split('-')[0])).toISOString() }
  } catch {
    return undefined
  }
}

function matches(e: StoredTelemetryEvent, f: TelemetryFilter): boolean {
  return (
    (f.house === undefined || e.house === f.house) &&
    (f.job === undefined || ('jobId' in e && e.jobId === f.job)) &&
    (f.type === undefined || f.type.includes(e.type))
  )
}

/**
 * The id of the newest retained event, or `0-0` for an empty stream: where a reader that asked
 * for no replay starts, so nothing appended after it connected is missed.
 */
export async function newestTelemetryId(redis: RedisClient, prefix: string): Promise<string> {
  const last = (await redis.xrevrange(telemetryStreamKey(prefix), '+', '-', 'COUNT', 1)) as Entry[]
  return last[0]?.[0] ?? '0-0'
}

/**
 * Reads the events after `after`, waiting up to `blockMs` for one when there is none yet (`XREAD
 * BLOCK`: use a connection of its own, nothing else can use it meanwhile).
 *
 * @example
 *   let cursor = await newestTelemetryId(redis, '{uw}')
 *   const page = await readTelemetry(reader, '{uw}', cursor, { blockMs: 15000, filter: { house: 'ezra' } })
 *   cursor = page.cursor
 */
export async function readTelemetry(
  redis: RedisClient,
  prefix: string,
  after: string,
  opts: { blockMs?: number; count?: number; filter?: TelemetryFilter } = {},
): Promise<TelemetryPage> {
  const key = telemetryStreamKey(prefix)
  const count = opts.count ?? 500
  const reply = (
    opts.blockMs === undefined
      ? await redis.xread('COUNT', count, 'STREAMS', key, after)
      : await redis.xread('COUNT', count, 'BLOCK', opts.blockMs, 'STREAMS', key, after)
  ) as [string, Entry[]][] | null
  const entries = reply?.[0]?.[1] ?? []
  const events: StoredTelemetryEvent[] = []
  for (const entry of entries) {
    const e = toEvent(entry)
    if (e && matches(e, opts.filter ?? {})) events.push(e)
  }
  return { events, cursor: entries[entries.length - 1]?.[0] ?? after }
}

/** A raw entry as the forwarder reads it: its id, its number `n` (none before n existed), its event. */
export interface NumberedEntry {
  id: string
  /** The event's number (`<prefix>:telemetry-seq` at its append); a jump means events were trimmed. */
  n: number | undefined
  /** The event, or undefined when the entry does not fit the schema. */
  event: StoredTelemetryEvent | undefined
}

/**
 * Reads up to `count` entries after `after`, unfiltered and with their numbers, waiting up to
 * `blockMs` when there is none yet (use a connection of its own then).
 *
 * @example
 *   const entries = await readNumbered(reader, '{uw}', ackedId, { count: 200, blockMs: 1000 })
 */
export async function readNumbered(
  redis: RedisClient,
  prefix: string,
  after: string,
  opts: { count: number; blockMs?: number },
): Promise<NumberedEntry[]> {
  const key = telemetryStreamKey(prefix)
  const reply = (
    opts.blockMs === undefined
      ? await redis.xread('COUNT', opts.count, 'STREAMS', key, after)
      : await redis.xread('COUNT', opts.count, 'BLOCK', opts.blockMs, 'STREAMS', key, after)
  ) as [string, Entry[]][] | null
  return (reply?.[0]?.[1] ?? []).map((entry) => {
    const n = Number(field(entry[1], 'n'))
    return { id: entry[0], n: Number.isSafeInteger(n) && n > 0 ? n : undefined, event: toEvent(entry) }
  })
}
