import { z } from 'zod'
import { StreamId } from './read-telemetry.js'

/** One forwarded event: the stream's event (docs/TELEMETRY.md, Events) with its `id`, `at` and `n`. */
export const SinkEvent = z.looseObject({
  /** The stream id, unique and increasing: the sink's dedupe key. */
  id: StreamId,
  /** The event's number: consecutive, unless events were trimmed before they were forwarded (a gap). */
  n: z.number().int().positive().optional(),
  type: z.string().min(1),
  house: z.string().min(1),
  at: z.string(),
})
export type SinkEvent = z.infer<typeof SinkEvent>

/**
 * Events retention trimmed before they were forwarded (the sink was away longer than the stream
 * keeps events): those after `after` and before `before`, `events` of them.
 */
export const SinkGap = z.object({
  type: z.literal('telemetry.gap'),
  after: StreamId,
  before: StreamId,
  events: z.number().int().positive(),
})
export type SinkGap = z.infer<typeof SinkGap>

/**
 * The body of one `POST` to the sink: the contract a sovereign's endpoint implements (and the
 * double in `double/sink-double.ts` checks). Events are in stream order, oldest first; a batch
 * may repeat events the sink already has (at least once): dedupe by `id`. `fence` numbers the
 * forwarder's lease and only grows: a sink may answer 409 to a batch whose fence is lower than
 * one it has seen (a former holder still sending).
 *
 * @example
 *   SinkBatch.parse({ source: 'uni-wizard', stream: '{uw}:telemetry', fence: 3, events: [...] })
 */
export const SinkBatch = z
  .object({
    source: z.literal('uni-wizard'),
    stream: z.string().min(1),
    fence: z.number().int().positive(),
    events: z.array(SinkEvent).min(1),
    gaps: z.array(SinkGap).optional(),
  })
  .strict()
export type SinkBatch = z.infer<typeof SinkBatch>
