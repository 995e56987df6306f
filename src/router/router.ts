import { QueueWorker, UnrecoverableError, type QueueJob } from '../queue/queue-worker.js'
import type { RedisClient } from '../queue/connection.js'
import { EventJob } from '../events/payloads.js'
import { toCommentEvent } from '../events/to-comment-event.js'
import { markHop } from '../hop-trace.js'
import type { Logger } from '../logger.js'
import { DEFAULT_PREFIX } from '../queue/connection.js'
import { EVENTS_QUEUE } from '../queue/events-producer.js'
import { claimKey, type CommentClaims } from './comment-claims.js'
import { createHandlerContext, type HandlerContextDeps } from './handler-context.js'
import type { Effect } from '../effects/effects.js'
import { EffectsError, type Executor } from '../effects/executor.js'
import { cappedBackoff } from '../queue/backoff.js'
import { KEYED_WORK_MAX_STALLED, lockOptions, type ConsumerLocks } from '../queue/consumer-locks.js'
import type { EventHandler, EventHandlerContext } from './event-handler.js'
import type { CommentHandler } from './comment-handler.js'

export interface RouterOptions {
  /** A worker-role connection. */
  connection: RedisClient
  prefix?: string
  executor: Executor
  /** Handlers of comments (and issue/PR bodies): the slash commands. */
  commentHandlers: readonly CommentHandler[]
  /** Handlers of whole events (triage on open, learning from label corrections, ...). */
  eventHandlers: readonly EventHandler[]
  /**
   * What event handlers see; without it no event handler runs. Its `commandContext` defaults to
   * the comment handlers' context built from `context`.
   */
  eventContext?: EventHandlerContext
  /** What each comment handler's context is built from. */
  context: HandlerContextDeps
  /**
   * Which delivery owns each comment. Without it a redelivered comment (Gitea gives the copy a
   * new delivery id) runs its commands again.
   */
  claims?: CommentClaims
  concurrency: number
  /** Retry delays of failed events: doubling from `backoffMs`, capped at `maxBackoffMs`. */
  backoff?: { backoffMs: number; maxBackoffMs: number }
  /** Event locks (`daemon.router.lockDurationMs`, `stalledIntervalMs`); without it BullMQ's 30 s lock and 30 s stalled check. */
  locks?: ConsumerLocks
  log: Logger
}

/** A running router. */
export interface RunningRouter {
  close(): Promise<void>
}

function isPermanent(err: unknown): boolean {
  if (err instanceof UnrecoverableError) return true
  if (err instanceof EffectsError) return !err.transient
  return false
}

/**
 * Handles one queued event: re-parses it, skips the bot's own, runs every comment handler on its
 * CommentEvent and every event handler, and applies each handler's effects with the executor.
 * Every handler runs even when another fails; if any failed, it throws afterwards so BullMQ
 * retries the event (safe: every effect is keyed), or throws UnrecoverableError when retrying
 * cannot help. Exported for tests and the benchmark; `startRouter` runs it on the `events` queue.
 *
 * @example
 *   await routeEvent(bullJob.data, { executor, commentHandlers, eventHandlers, context, log })
 */
export async function routeEvent(
  data: unknown,
  opts: Pick<
    RouterOptions,
    'executor' | 'commentHandlers' | 'eventHandlers' | 'eventContext' | 'context' | 'claims' | 'log'
  >,
): Promise<{ handled: string[]; skipped?: string }> {
  const parsed = EventJob.safeParse(data)
  if (!parsed.success)
    throw new UnrecoverableError(
      `bad event data: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`,
    )
  const event = parsed.data
  markHop('router.picked', event.deliveryId)
  const log = opts.log.child({ deliveryId: event.deliveryId })
  if (event.payload.sender.login.toLowerCase() === opts.context.botLogin.toLowerCase())
    return { handled: [], skipped: 'own event' }

  let comment = toCommentEvent(event)
  if (
    comment?.action === 'created' &&
    opts.claims &&
    !(await opts.claims.claim(claimKey(comment), event.deliveryId))
  ) {
    log.info(
      { claim: claimKey(comment) },
      'comment already handled under another delivery id; not running it again',
    )
    comment = undefined
  }
  const runs: { name: string; run: () => Promise<Effect[]> }[] = []
  if (comment) {
    for (const h of opts.commentHandlers)
      runs.push({ name: h.name, run: () => h.handle(comment, createHandlerContext(opts.context, comment)) })
  }
  const eventContext: EventHandlerContext | undefined = opts.eventContext && {
    commandContext: (e) => createHandlerContext(opts.context, e),
    ...opts.eventContext,
  }
  if (eventContext) {
    for (const h of opts.eventHandlers)
      if (h.accepts(event)) runs.push({ name: h.name, run: () => h.handle(event, eventContext) })
  }

  const failures: { name: string; err: unknown }[] = []
  const handled: string[] = []
  for (const { name, run } of runs) {
    try {
      const effects = await run()
      if (effects.length > 0) await opts.executor.apply(effects)
      handled.push(name)
    } catch (err) {
      log.error({ err, handler: name }, 'handler failed')
      failures.push({ name, err })
    }
  }
  if (failures.length > 0) {
    const names = failures.map((f) => f.name).join(', ')
    const first = failures[0]?.err
    const message = `handlers failed: ${names}: ${first instanceof Error ? first.message : String(first)}`
    if (failures.every((f) => isPermanent(f.err))) throw new UnrecoverableError(message)
    throw new Error(message, { cause: first })
  }
  return { handled }
}

/**
 * Starts the router: a BullMQ worker on `events` running `routeEvent` for each delivery.
 *
 * @example
 *   const router = await startRouter({ connection, executor, commentHandlers, eventHandlers: [], context, concurrency: 16, log })
 */
export async function startRouter(opts: RouterOptions): Promise<RunningRouter> {
  const log = opts.log.child({ component: 'router' })
  const worker = new QueueWorker(EVENTS_QUEUE, (job: QueueJob) => routeEvent(job.data, { ...opts, log }), {
    connection: opts.connection,
    prefix: opts.prefix ?? DEFAULT_PREFIX,
    concurrency: opts.concurrency,
    ...lockOptions(opts.locks, KEYED_WORK_MAX_STALLED),
    autorun: false,
    settings: {
      backoffStrategy: (attemptsMade: number) =>
        cappedBackoff(attemptsMade, opts.backoff?.backoffMs ?? 1000, opts.backoff?.maxBackoffMs ?? 300_000),
    },
  })
  worker.on('error', (err) => log.error({ err }, 'router error'))
  worker.on('failed', (job, err) =>
    log.warn({ err, jobId: job?.id, attempts: job?.attemptsMade }, 'event failed'),
  )
  void worker.run().catch((err: unknown) => log.error({ err }, 'router stopped'))
  await worker.waitUntilReady()
  return { close: () => worker.close() }
}
