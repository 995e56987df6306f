import type { Context } from 'hono'
import { streamSSE } from 'hono/streaming'
import type { RedisClient } from '../queue/connection.js'
import { readTelemetry, StreamId } from '../telemetry/read-telemetry.js'
import type { StoredTelemetryEvent } from '../telemetry/telemetry-event.js'
import type { DashboardEnv } from './dashboard-env.js'

/** One line about a telemetry event, the same on the page and in the live updates. */
export function eventText(e: StoredTelemetryEvent): string {
  switch (e.type) {
    case 'job.queued':
      return `queued (run ${e.run}, ${e.mode}, asked by ${e.requester})`
    case 'job.approval_asked':
      return `approval asked of ${e.approvers.join(', ')}`
    case 'job.approved':
      return `approved by ${e.by}`
    case 'job.started':
      return `started on ${e.worker}${e.waitMs !== undefined ? ` after ${e.waitMs} ms in the queue` : ''}`
    case 'tool.started':
      return `tool ${e.tool} started`
    case 'tool.finished':
      return `tool ${e.tool} finished: ${e.status} in ${e.durationMs} ms (${e.attempts} attempt${e.attempts === 1 ? '' : 's'})`
    case 'agent.message':
      return `agent said${e.final ? ' (final)' : ''}: ${e.summary}`
    case 'agent.tool':
      return `agent ${e.phase === 'started' ? 'called' : 'got'} ${e.call}${e.status ? `: ${e.status}` : ''}${e.durationMs !== undefined ? ` in ${e.durationMs} ms` : ''}`
    case 'agent.event':
      return `agent ${e.kind}${e.totalTokens !== undefined ? ` (${e.totalTokens} tokens)` : ''}`
    case 'proof.result':
      return `proof ${e.name}: ${e.passed ? 'passed' : e.timedOut ? 'timed out' : `failed (exit ${e.exitCode})`} in ${e.durationMs} ms`
    case 'job.finished':
      return `finished: ${e.state} after ${e.durationMs} ms${e.reason ? ` (${e.reason})` : ''}`
    case 'report.posted':
      return `result comment posted (${e.state})`
    case 'house.heartbeat_gained':
      return `worker ${e.worker} of ${e.house} is alive`
    case 'house.heartbeat_lost':
      return `worker ${e.worker} of ${e.house} went away (${e.why})`
  }
}

/** The most events a job page reads from the stream. */
const MAX_EVENTS = 2000

/**
 * A job's events from the telemetry stream: read from its creation on (stream ids are times), so
 * a page reads the stream since then, not all of it. `cursor` is where live updates continue.
 */
export async function readJobTimeline(
  redis: RedisClient,
  prefix: string,
  job: { id: string; createdAt: string },
): Promise<{ events: StoredTelemetryEvent[]; cursor: string }> {
  // A second's margin: the queued event is appended just before the record's createdAt is read back.
  let cursor = `${Math.max(0, Date.parse(job.createdAt) - 1000)}-0`
  const events: StoredTelemetryEvent[] = []
  for (let reads = 0; reads < 50 && events.length < MAX_EVENTS; reads++) {
    const page = await readTelemetry(redis, prefix, cursor, { count: 1000, filter: { job: job.id } })
    events.push(...page.events)
    if (page.cursor === cursor) break
    cursor = page.cursor
  }
  return { events: events.slice(0, MAX_EVENTS), cursor }
}

/** Live-update streams one session may hold open at once (a job page needs one). */
export const STREAMS_PER_SESSION = 4

/**
 * `GET <base>/jobs/:id/events?since=<stream id>`: the job's new telemetry events as server-sent
 * events (`event: telemetry`, data `{id, at, type, text}`), behind the session like every page.
 * It ends after the job's `job.finished` event. A reconnecting EventSource resumes from
 * `Last-Event-ID`. Before a Redis connection is opened: the job must exist and be one the user
 * may see (`find`, else 404), and the session may hold at most `STREAMS_PER_SESSION` streams and
 * the process `config.maxEventStreams` (else 429 with the reason).
 */
export function jobEventStream(
  deps: {
    prefix: string
    /** A connection of its own per subscriber (its XREAD BLOCK holds it); disconnected when the subscriber leaves. */
    connect: () => RedisClient
    keepaliveMs: number
    config: { maxEventStreams: number }
  },
  find: (c: Context<DashboardEnv>, id: string) => Promise<{ id: string } | undefined>,
): (c: Context<DashboardEnv>) => Promise<Response> {
  const perSession = new Map<string, number>()
  let open = 0
  return async (c) => {
    const last = c.req.header('last-event-id')?.trim()
    const since = StreamId.safeParse(last || c.req.query('since'))
    if (!since.success) return c.text('bad ?since=: a telemetry event id such as 1718000000000-0', 400)
    const record = await find(c, c.req.param('id') ?? '')
    if (!record) return c.text('no such job (it may have expired)', 404)
    const job = record.id
    const session = c.get('session')?.id ?? ''
    if ((perSession.get(session) ?? 0) >= STREAMS_PER_SESSION)
      return c.text(
        `too many live updates: this session already has ${STREAMS_PER_SESSION} open; close a job page and reload`,
        429,
      )
    if (open >= deps.config.maxEventStreams)
      return c.text(
        `too many live updates: the dashboard serves ${deps.config.maxEventStreams} at once (dashboard.maxEventStreams); reload later`,
        429,
      )
    open++
    perSession.set(session, (perSession.get(session) ?? 0) + 1)
    let released = false
    const release = () => {
      if (released) return
      released = true
      open--
      const n = (perSession.get(session) ?? 1) - 1
      if (n > 0) perSession.set(session, n)
      else perSession.delete(session)
    }
    return streamSSE(c, async (stream) => {
      let reader: RedisClient
      try {
        reader = deps.connect()
      } catch {
        release()
        return
      }
      reader.on('error', () => undefined)
      let closed = false
      const close = () => {
        if (closed) return
        closed = true
        reader.disconnect()
        release()
      }
      stream.onAbort(close)
      try {
        let cursor = since.data
        await stream.write(': job events\n\n')
        while (!closed && !stream.aborted) {
          const page = await readTelemetry(reader, deps.prefix, cursor, {
            blockMs: deps.keepaliveMs,
            filter: { job },
          })
          cursor = page.cursor
          for (const e of page.events)
            await stream.writeSSE({
              id: e.id,
              event: 'telemetry',
              data: JSON.stringify({ id: e.id, at: e.at, type: e.type, text: eventText(e) }),
            })
          if (page.events.some((e) => e.type === 'job.finished')) break
          if (page.events.length === 0) await stream.write(': keepalive\n\n')
        }
      } catch {
        // The subscriber left (its connection was disconnected) or Redis went away: the stream ends.
      } finally {
        close()
      }
    })
  }
}
