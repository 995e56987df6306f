import { channel } from 'node:diagnostics_channel'

/**
 * The points a command passes on its way from webhook to final comment edit, in order. Each piece
 * of the loop marks its own; together they show where the time of one command goes.
 */
export type Hop =
  /** Ingress: the delivery was enqueued on `events`, the 202 is being sent. */
  | 'ingress.accepted'
  /** Router: a worker took the event off `events`. */
  | 'router.picked'
  /** Executor: a job was put on its house queue. */
  | 'executor.enqueued'
  /** House worker: a worker took the run off `house-<name>`. */
  | 'worker.picked'
  /** House worker: the harness is about to run the tool / has returned. */
  | 'worker.toolStart'
  | 'worker.toolEnd'
  /** House worker: the final state was stored and its report queued. */
  | 'worker.reported'
  /** Reporter: a report was taken off `reports` (detail: the state it was queued for). */
  | 'reporter.picked'
  /** Reporter: the ack comment was edited (detail: the state shown). */
  | 'reporter.edited'

/** One mark: which hop, for which delivery, when (`performance.now()`), and a detail. */
export interface HopMark {
  hop: Hop
  deliveryId: string
  at: number
  detail?: string
}

/** The diagnostics channel the marks are published on. */
export const HOP_CHANNEL = 'uni-wizard:hop'

const hops = channel(HOP_CHANNEL)

/**
 * Marks a hop of a delivery on the `uni-wizard:hop` diagnostics channel. Costs one property read
 * when nobody subscribes (production); the e2e benchmark subscribes to break latency down per hop.
 *
 * @example
 *   import { subscribe } from 'node:diagnostics_channel'
 *   subscribe(HOP_CHANNEL, (m) => console.log((m as HopMark).hop))
 *   markHop('router.picked', job.deliveryId)
 */
export function markHop(hop: Hop, deliveryId: string, detail?: string): void {
  if (!hops.hasSubscribers) return
  hops.publish({ hop, deliveryId, at: performance.now(), detail } satisfies HopMark)
}
