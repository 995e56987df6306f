import type { Context } from 'hono'
import { streamSSE } from 'hono/streaming'
import { z } from 'zod'
import type { Secret } from '../config/secret.js'
import type { Logger } from '../logger.js'
import { bearerCheck } from './bearer-token.js'
import type { RedisClient } from '../queue/connection.js'
import { newestTelemetryId, readTelemetry, StreamId, TelemetryFilter } from '../telemetry/read-telemetry.js'

/** What `GET /telemetry/stream` needs. */
export interface TelemetryStreamDeps {
  /** The bearer token (`telemetry.tokenEnv`); without one the endpoint is off (404). */
  token: Secret | undefined
  prefix: string
  /**
   * A new connection for one subscriber: its `XREAD BLOCK` holds the connection, so subscribers
   * never share one. It is disconnected when the subscriber leaves.
   */
  connect: () => RedisClient
  /** A subscriber with nothing to receive gets a comment this often (and the read blocks this long). */
  keepaliveMs: number
}

const StreamQuery = z
  .object({
    since: StreamId.optional(),
    house: TelemetryFilter.shape.house,
    job: TelemetryFilter.shape.job,
    type: TelemetryFilter.shape.type,
  })
  .strict()

/**
 * `GET /telemetry/stream`: the telemetry stream as server-sent events (docs/TELEMETRY.md). Each
 * message has `id:` the stream id, `event:` the type and `data:` the event as JSON. It replays
 * from `Last-Event-ID` (or `?since=`), then follows live; `?house=`, `?job=`, `?type=` filter.
 *
 * @example
 *   app.get('/telemetry/stream', telemetryStream({ token, prefix, connect, keepaliveMs: 15000 }, log))
 */
export function telemetryStream(
  deps: TelemetryStreamDeps | undefined,
  log: Logger,
): (c: Context) => Response | Promise<Response> {
  return (c) => {
    if (!deps?.token)
      return c.json(
        { error: 'the telemetry stream is off: name the variable holding its token with telemetry.tokenEnv' },
        404,
      )
    const auth = bearerCheck(c.req.header('authorization'), deps.token)
    if (auth !== 'ok') {
      c.header('WWW-Authenticate', 'Bearer realm="telemetry"')
      return c.json(
        {
          error:
            auth === 'wrong'
              ? 'wrong bearer token'
              : 'an Authorization: Bearer <telemetry token> header is required',
        },
        401,
      )
    }
    const query = StreamQuery.safeParse(c.req.query())
    if (!query.success) {
      const issue = query.error.issues[0]
      const where = issue?.path.length ? `?${String(issue.path[0])}=` : 'query'
      return c.json({ error: `bad ${where}: ${issue?.message ?? 'invalid'}` }, 400)
    }
    const lastEventId = c.req.header('last-event-id')
    const resume = lastEventId === undefined ? undefined : StreamId.safeParse(lastEventId.trim())
    if (resume && !resume.success)
      return c.json({ error: `bad Last-Event-ID: ${resume.error.issues[0]?.message ?? 'invalid'}` }, 400)
    const { since, ...rest } = query.data
    const filter = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined))
    // A reconnecting EventSource sends Last-Event-ID; it wins over the URL's `since` it reconnects with.
    const from = resume?.data ?? since

    return streamSSE(c, async (stream) => {
      const reader = deps.connect()
      reader.on('error', () => undefined)
      let closed = false
      const close = () => {
        if (closed) return
        closed = true
        reader.disconnect()
      }
      stream.onAbort(close)
      c.req.raw.signal.addEventListener('abort', close)
      try {
        let cursor = from ?? (await newestTelemetryId(reader, deps.prefix))
        let wrote = Date.now()
        await stream.write(': telemetry\n\n')
        while (!closed && !stream.aborted) {
          const page = await readTelemetry(reader, deps.prefix, cursor, { blockMs: deps.keepaliveMs, filter })
          cursor = page.cursor
          for (const e of page.events)
            await stream.writeSSE({ id: e.id, event: e.type, data: JSON.stringify(e) })
          if (page.events.length > 0) wrote = Date.now()
          else if (Date.now() - wrote >= deps.keepaliveMs) {
            await stream.write(': keepalive\n\n')
            wrote = Date.now()
          }
        }
      } catch (err) {
        // A read that failed because the subscriber left (its connection was disconnected) is the end.
        if (!closed) log.warn({ err }, 'telemetry stream ended by an error')
      } finally {
        close()
      }
    })
  }
}
