import type { RedisClient } from '../queue/connection.js'
import { LuaScript } from '../queue/lua-script.js'
import type { Logger } from '../logger.js'
import { SUMMARY_CHARS, TelemetryEvent } from './telemetry-event.js'
import type { TelemetrySink } from './telemetry-sink.js'
import { telemetryOnceKey, telemetrySeqKey, telemetryStreamKey } from './telemetry-keys.js'

// KEYS: the stream, the step's once-key (the stream again when the event has none), the counter.
// ARGV: once? (1/0), once TTL s, max events, max age ms, type, house, job, data.
// The id is Redis's own (`*`): monotonic across every process appending. `n` numbers the events
// without holes (the counter moves in the same script), so a reader that finds n jump knows how
// many were trimmed before it read them. Both trims are approximate (`~`): Redis drops whole
// radix-tree nodes, which keeps each append cheap.
const APPEND = new LuaScript(`
if ARGV[1] == '1' and not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then return false end
local n = redis.call('INCR', KEYS[3])
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*',
  'type', ARGV[5], 'house', ARGV[6], 'job', ARGV[7], 'n', n, 'data', ARGV[8])
local t = redis.call('TIME')
local minid = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[4])
if minid > 0 then redis.call('XTRIM', KEYS[1], 'MINID', '~', string.format('%d', minid)) end
return id
`)

/** Retention and dedupe of the stream (the `telemetry:` section's numbers). */
export interface TelemetryRetention {
  maxEvents: number
  maxAgeHours: number
  onceTtlSeconds: number
}

export interface RedisTelemetryOptions {
  redis: RedisClient
  prefix: string
  retention: TelemetryRetention
  /** The harness's redactor (configured secrets and secret-looking text): every string passes it. */
  redact: (text: string) => string
  log: Logger
}

function redactStrings(value: unknown, redact: (s: string) => string): unknown {
  if (typeof value === 'string') return redact(value)
  if (Array.isArray(value)) return value.map((v) => redactStrings(v, redact))
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactStrings(v, redact)]))
  return value
}

/**
 * The telemetry sink over Redis: each event is checked against the schema, its strings redacted,
 * and appended to `<prefix>:telemetry` with `XADD` (trimmed by length and age at each append), at
 * most once per `once` key (a `SET NX` in the same script as the `XADD`: both or neither).
 *
 * @example
 *   const telemetry = new RedisTelemetry({ redis, prefix: '{uw}', retention, redact, log })
 *   await telemetry.emit({ type: 'house.heartbeat_gained', house: 'ezra', worker: 'h:1' })
 */
export class RedisTelemetry implements TelemetrySink {
  constructor(private readonly opts: RedisTelemetryOptions) {}

  async emit(event: TelemetryEvent, once?: string): Promise<void> {
    const { redis, prefix, retention, log } = this.opts
    try {
      // Redaction first, then the cut: a secret cut in half would no longer be recognised.
      const redacted = redactStrings(event, this.opts.redact) as Record<string, unknown>
      for (const f of ['summary', 'status', 'reason'])
        if (typeof redacted[f] === 'string') redacted[f] = redacted[f].slice(0, SUMMARY_CHARS)
      const parsed = TelemetryEvent.safeParse(redacted)
      if (!parsed.success) {
        log.warn(
          { type: event.type, issue: parsed.error.issues[0]?.message },
          'telemetry event dropped: bad shape',
        )
        return
      }
      const e = parsed.data
      const stream = telemetryStreamKey(prefix)
      await APPEND.run(
        redis,
        [stream, once ? telemetryOnceKey(prefix, once) : stream, telemetrySeqKey(prefix)],
        [
          once ? '1' : '0',
          retention.onceTtlSeconds,
          retention.maxEvents,
          Math.round(retention.maxAgeHours * 3600_000),
          e.type,
          e.house,
          'jobId' in e ? e.jobId : '',
          JSON.stringify(e),
        ],
      )
    } catch (err) {
      log.warn({ err, type: event.type, once }, 'telemetry event not appended')
    }
  }
}
