import type { Logger } from '../logger.js'
import type { RedisClient } from '../queue/connection.js'
import { cappedBackoff } from '../queue/backoff.js'
import { LuaScript } from '../queue/lua-script.js'
import { readNumbered, type NumberedEntry } from './read-telemetry.js'
import type { SinkBatch, SinkEvent, SinkGap } from './sink-batch.js'
import { shownSinkUrl, type SendBatch, type SinkErrorKind } from './sink-client.js'
import type { TelemetrySinkConfig } from './telemetry-config.js'
import { telemetrySinkKeys, telemetryStreamKey } from './telemetry-keys.js'

// KEYS: lease, fence. ARGV: owner, lease ms. A free lease is taken with the next fence number.
const ACQUIRE = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local token = redis.call('INCR', KEYS[2]) .. ':' .. ARGV[1]
redis.call('SET', KEYS[1], token, 'PX', ARGV[2])
return token
`)

// KEYS: lease. ARGV: token, lease ms (renew) or nothing (release).
const RENEW = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) else redis.call('DEL', KEYS[1]) end
return 1
`)

// KEYS: lease, ack. ARGV: token, id, n ('' unknown), events, gap events, gap JSON.
// The fencing check: only the lease's holder moves the acknowledged id.
const ACK = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local t = redis.call('TIME')
redis.call('HSET', KEYS[2], 'id', ARGV[2], 'at', t[1] * 1000 + math.floor(t[2] / 1000))
if ARGV[3] ~= '' then redis.call('HSET', KEYS[2], 'n', ARGV[3]) else redis.call('HDEL', KEYS[2], 'n') end
redis.call('HINCRBY', KEYS[2], 'forwarded', ARGV[4])
if tonumber(ARGV[5]) > 0 then
  redis.call('HINCRBY', KEYS[2], 'gapEvents', ARGV[5])
  redis.call('HINCRBY', KEYS[2], 'gaps', 1)
  redis.call('HSET', KEYS[2], 'lastGap', ARGV[6])
end
return 1
`)

export interface TelemetryForwarderOptions {
  /** Lease and acknowledgement commands. */
  redis: RedisClient
  /** A connection of its own for `XREAD BLOCK`; disconnected by stop(). */
  reader: RedisClient
  prefix: string
  sink: TelemetrySinkConfig
  send: SendBatch
  /** Who holds the lease, for `telemetry --status` and logs (`<host>:<pid>`). */
  owner: string
  log: Logger
  /** Counts for the metrics (`uw_telemetry_events_forwarded_total`, `..._sink_errors_total`). */
  onForwarded?: (events: number) => void
  onSinkError?: (kind: SinkErrorKind) => void
  /** Longest wait of one `XREAD BLOCK` (the lease is checked between reads). Default 1000 ms. */
  blockMs?: number
}

interface Lease {
  token: string
  fence: number
  /** Local time until which the lease is surely ours (renewal start + lease, minus a margin). */
  until: number
}

/**
 * Forwards the telemetry stream to the sink (docs/TELEMETRY.md, "Forwarding to a sink"): in
 * order, in batches, at least once, from the last acknowledged id kept in Redis. One forwarder
 * sends at a time across processes: it holds a lease (`SET NX PX`, renewed every third of
 * `leaseMs`) numbered by a fence that only grows; the acknowledgement is written only by the
 * lease's holder (checked in the same script), and every batch carries the fence. While the sink
 * fails, the same batch is sent again with backoff; the events wait in the stream.
 *
 * @example
 *   const f = new TelemetryForwarder({ redis, reader, prefix, sink, send: httpSink(sink), owner, log })
 *   f.start()
 *   await f.stop()
 */
export class TelemetryForwarder {
  private lease: Lease | undefined
  private stopping = false
  private loop: Promise<void> | undefined
  private renewTimer: NodeJS.Timeout | undefined
  private readonly abort = new AbortController()
  private wake: (() => void) | undefined
  /** Shrinks after a 413 (batch too large) for this process's life. */
  private limit: number
  private readonly keys: ReturnType<typeof telemetrySinkKeys>
  private readonly log: Logger

  constructor(private readonly opts: TelemetryForwarderOptions) {
    this.limit = opts.sink.batchSize
    this.keys = telemetrySinkKeys(opts.prefix)
    this.log = opts.log.child({ component: 'telemetry-forwarder', sink: shownSinkUrl(opts.sink.url) })
    opts.reader.on('error', () => undefined)
  }

  /** True while this forwarder holds the lease. */
  get leading(): boolean {
    return this.lease !== undefined && Date.now() < this.lease.until
  }

  start(): void {
    this.loop ??= this.run()
  }

  /** Stops sending (an in-flight POST is aborted), releases the lease, disconnects the reader. */
  async stop(): Promise<void> {
    this.stopping = true
    this.abort.abort()
    this.wake?.()
    clearInterval(this.renewTimer)
    this.opts.reader.disconnect()
    await this.loop
    const lease = this.lease
    this.lease = undefined
    if (lease) await RENEW.run(this.opts.redis, [this.keys.lease], [lease.token]).catch(() => undefined)
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms)
      function done() {
        clearTimeout(t)
        resolve()
      }
      this.wake = done
    })
  }

  private async run(): Promise<void> {
    let failures = 0
    while (!this.stopping) {
      try {
        if (!this.leading) {
          if (!(await this.acquire())) {
            await this.sleep(Math.min(1000, this.opts.sink.leaseMs / 3))
            continue
          }
        }
        await this.forwardFromAck()
        failures = 0
      } catch (err) {
        if (this.stopping) break
        failures++
        this.log.warn({ err }, 'telemetry forwarding: Redis failed; trying again')
        await this.sleep(cappedBackoff(failures, 200, 5000))
      }
    }
  }

  private async acquire(): Promise<boolean> {
    const { leaseMs } = this.opts.sink
    const started = Date.now()
    const token = (await ACQUIRE.run(
      this.opts.redis,
      [this.keys.lease, this.keys.fence],
      [this.opts.owner, leaseMs],
    )) as string | null
    if (!token) return false
    this.lease = { token, fence: Number(token.split(':')[0]), until: started + leaseMs - leaseMs / 10 }
    clearInterval(this.renewTimer)
    this.renewTimer = setInterval(() => void this.renew(), leaseMs / 3)
    this.renewTimer.unref()
    this.log.info({ fence: this.lease.fence, owner: this.opts.owner }, 'telemetry forwarder took the lease')
    return true
  }

  private async renew(): Promise<void> {
    const lease = this.lease
    if (!lease) return
    const { leaseMs } = this.opts.sink
    const started = Date.now()
    try {
      const ok = await RENEW.run(this.opts.redis, [this.keys.lease], [lease.token, leaseMs])
      if (this.lease !== lease) return
      if (ok === 1) lease.until = started + leaseMs - leaseMs / 10
      else this.lose('the lease was taken over')
    } catch {
      // Redis away: the lease runs out on its own (`until`), and then nothing is sent.
    }
  }

  private lose(why: string): void {
    if (!this.lease) return
    this.log.warn({ fence: this.lease.fence, why }, 'telemetry forwarder lost the lease')
    this.lease = undefined
    clearInterval(this.renewTimer)
  }

  /** Reads the acknowledged position, then sends batch after batch while the lease holds. */
  private async forwardFromAck(): Promise<void> {
    const ack = await this.opts.redis.hmget(this.keys.ack, 'id', 'n')
    let cursor = ack[0] ?? '0-0'
    let lastN = ack[1] ? Number(ack[1]) : undefined
    while (!this.stopping && this.leading) {
      const entries = await this.nextEntries(cursor)
      if (entries.length === 0) continue
      const { events, gaps } = this.toBatch(entries, cursor, lastN)
      const last = entries[entries.length - 1]!
      const gapEvents = gaps.reduce((t, g) => t + g.events, 0)
      if (gapEvents > 0)
        this.log.error(
          { gaps, events: gapEvents },
          'telemetry events were trimmed by retention before the sink acknowledged them (a gap; see docs/TELEMETRY.md)',
        )
      const acked = await this.deliver({ events, gaps, last, gapEvents })
      if (acked === undefined) return
      cursor = acked.id
      lastN = acked.n
    }
  }

  private async nextEntries(cursor: string): Promise<NumberedEntry[]> {
    const { reader, prefix } = this.opts
    const blockMs = this.opts.blockMs ?? 1000
    const entries = await readNumbered(reader, prefix, cursor, { count: this.limit, blockMs })
    const waitMs = this.opts.sink.maxBatchWaitMs
    if (entries.length === 0 || entries.length >= this.limit || waitMs === 0) return entries
    const until = Date.now() + waitMs
    while (entries.length < this.limit && !this.stopping) {
      const left = until - Date.now()
      if (left <= 0) break
      const more = await readNumbered(reader, prefix, entries[entries.length - 1]!.id, {
        count: this.limit - entries.length,
        blockMs: Math.max(1, left),
      })
      entries.push(...more)
    }
    return entries
  }

  private toBatch(
    entries: NumberedEntry[],
    cursor: string,
    lastN: number | undefined,
  ): { events: SinkEvent[]; gaps: SinkGap[] } {
    const events: SinkEvent[] = []
    const gaps: SinkGap[] = []
    let prevId = cursor
    let prevN = lastN
    for (const e of entries) {
      if (e.n !== undefined && prevN !== undefined && e.n > prevN + 1)
        gaps.push({ type: 'telemetry.gap', after: prevId, before: e.id, events: e.n - prevN - 1 })
      if (e.event) events.push({ ...e.event, ...(e.n !== undefined ? { n: e.n } : {}) })
      else this.log.warn({ id: e.id }, 'telemetry entry that fits no event schema: not forwarded')
      prevId = e.id
      prevN = e.n ?? prevN
    }
    return { events, gaps }
  }

  /**
   * Sends one batch until the sink acknowledges it, then moves the acknowledged id (fenced).
   * Undefined when the lease was lost or the forwarder stopped: the next holder resends it.
   */
  private async deliver(b: {
    events: SinkEvent[]
    gaps: SinkGap[]
    last: NumberedEntry
    gapEvents: number
  }): Promise<{ id: string; n: number | undefined } | undefined> {
    const { sink, send } = this.opts
    let events = b.events
    let last = { id: b.last.id, n: b.last.n }
    let attempt = 0
    while (!this.stopping && this.lease && this.leading) {
      const lease = this.lease
      // A batch of unreadable entries only: nothing to send, the acknowledgement moves past them.
      const result =
        events.length === 0
          ? ({ ok: true } as const)
          : await send(
              {
                source: 'uni-wizard',
                stream: telemetryStreamKey(this.opts.prefix),
                fence: lease.fence,
                events,
                ...(b.gaps.length > 0 ? { gaps: b.gaps } : {}),
              } satisfies SinkBatch,
              this.abort.signal,
            )
      if (this.stopping) return undefined
      if (result.ok) {
        const ok = await ACK.run(
          this.opts.redis,
          [this.keys.lease, this.keys.ack],
          [
            lease.token,
            last.id,
            last.n ?? '',
            events.length,
            b.gapEvents,
            JSON.stringify(b.gaps.at(-1) ?? {}),
          ],
        )
        if (ok !== 1) {
          this.lose('the acknowledgement was fenced off: another forwarder holds the lease')
          return undefined
        }
        this.opts.onForwarded?.(events.length)
        return last
      }
      attempt++
      this.opts.onSinkError?.(result.kind)
      const where = {
        kind: result.kind,
        status: result.status,
        reason: result.reason,
        attempt,
        events: events.length,
      }
      if (result.kind === 'fenced') {
        this.log.warn(where, 'the sink refused the batch: it has seen a newer forwarder lease')
        this.lose('the sink answered 409')
        return undefined
      }
      if (result.status === 413 && events.length > 1) {
        // Too large for the sink: send the first half now (the rest is read again after it).
        this.limit = Math.max(1, Math.floor(events.length / 2))
        events = events.slice(0, this.limit)
        const tail = events[events.length - 1]!
        last = { id: tail.id, n: tail.n }
        this.log.warn(
          { ...where, batchSize: this.limit },
          'the sink refused a batch as too large: smaller batches',
        )
        continue
      }
      const backoff =
        result.kind === 'rejected'
          ? sink.rejectedRetryMs
          : Math.max(
              Math.round(Math.random() * cappedBackoff(attempt, sink.retryMinMs, sink.retryMaxMs)),
              Math.min(result.retryAfterMs ?? 0, sink.retryMaxMs),
            )
      if (result.kind === 'rejected')
        this.log.error(
          { ...where, retryInMs: backoff },
          'the sink refused the batch; it stays in the stream and is sent again (fix the sink or its token)',
        )
      else if (attempt === 1 || attempt % 10 === 0)
        this.log.warn({ ...where, retryInMs: backoff }, 'the sink is unavailable; events wait in the stream')
      await this.sleep(backoff)
    }
    return undefined
  }
}
