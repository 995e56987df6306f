import { randomBytes } from 'node:crypto'
import { Queue } from 'bullmq'
import { Cluster, type Redis } from 'ioredis'
import type { EventJob } from '../events/payloads.js'
import { DEFAULT_PREFIX } from './connection.js'

/** Name of the durable queue every accepted webhook goes into. */
export const EVENTS_QUEUE = 'events'

/** Thrown when Redis cannot take the event right now; the ingress answers 503. */
export class QueueUnavailableError extends Error {
  override name = 'QueueUnavailableError'
}

/** The one thing the ingress needs from the queue: put an event in, exactly once per delivery. */
export interface EventsProducer {
  /**
   * Resolves `enqueued` once Redis holds the job, `duplicate` when this delivery id was already
   * enqueued; rejects with QueueUnavailableError when Redis is unreachable.
   */
  enqueue(job: EventJob): Promise<'enqueued' | 'duplicate'>
  close(): Promise<void>
}

export interface EventsProducerOptions {
  /** A producer connection (createRedis(url, 'producer')): no offline queue, fails fast. */
  connection: Redis | Cluster
  /** Key prefix; keep one `{hash tag}` in it for Redis Cluster. Default DEFAULT_PREFIX. */
  prefix?: string
  /** How long a delivery id is remembered for dedupe. */
  dedupeTtlSeconds: number
  /** Upper bound on one enqueue, well under Gitea's 5 s delivery timeout. Default 2000. */
  timeoutMs?: number
  /**
   * Replicas that must confirm the write (Redis `WAIT`) before an enqueue resolves; fewer within
   * `waitTimeoutMs` rejects with QueueUnavailableError (503). Default 0: do not wait. Not on a
   * Cluster, where WAIT cannot be sent to the node that took the write.
   */
  waitReplicas?: number
  /** Default 500. */
  waitTimeoutMs?: number
}

/**
 * Resolves when the connection can take commands. While Redis is away (reconnecting, closed) it
 * rejects at once: without an offline queue a command would fail anyway, and the ingress answers
 * 503 instead of waiting. Only a first connection still in progress is waited for.
 */
function connected(connection: Redis | Cluster): Promise<void> {
  const status = connection.status
  if (status === 'ready') return Promise.resolve()
  if (status !== 'wait' && status !== 'connecting' && status !== 'connect')
    return Promise.reject(new QueueUnavailableError(`redis is ${status}`))
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      connection.off('ready', onReady)
      connection.off('close', onClose)
      if (err) reject(err)
      else resolve()
    }
    const onReady = () => done()
    const onClose = () => done(new QueueUnavailableError('redis connection closed'))
    connection.once('ready', onReady)
    connection.once('close', onClose)
  })
}

/**
 * Resolves when the connection is ready again, waiting through a reconnection, or rejects when the
 * deadline passes first; never leaves a listener behind.
 */
function readyAgain(connection: Redis | Cluster, deadline: Promise<never>): Promise<void> {
  if (connection.status === 'ready') return Promise.resolve()
  if (connection.status === 'end') return Promise.reject(new QueueUnavailableError('redis connection ended'))
  let onReady: (() => void) | undefined
  const ready = new Promise<void>((resolve) => {
    onReady = resolve
    connection.once('ready', resolve)
  })
  return Promise.race([ready, deadline]).finally(() => connection.off('ready', onReady as () => void))
}

/**
 * Creates the producer of the `events` queue.
 *
 * Dedupe and enqueue are ONE atomic step: BullMQ's `deduplication` option sets the seen-key
 * (`<prefix>:events:de:<deliveryId>`, with the dedupe TTL) inside the same Lua script that
 * stores the job. So "seen" holds exactly when the job was stored: a crash, a dropped
 * connection or a Redis restart can never leave a delivery marked seen but not enqueued, and an
 * operator's retry after a 503 is accepted. (A separate `SET NX` before `queue.add` would need a
 * compensating `DEL` that cannot run while Redis is away.) The key outlives the job: BullMQ
 * keeps a TTL'd dedupe key when the job completes or is pruned by age.
 *
 * Each attempt proposes a fresh job id (`<deliveryId>.<nonce>`); when BullMQ answers with a
 * different id, the delivery was deduplicated against the earlier job. (With jobId = deliveryId
 * a duplicate and a fresh add return the same id and cannot be told apart.)
 *
 * An add that fails after it was sent is ambiguous: Redis may have run it and lost only the reply
 * (stopped mid-answer). Answering 503 then would mark a queued delivery as refused, and its
 * redelivery would be a duplicate. So the add is retried once the connection is ready again,
 * within the same deadline, with the same proposed job id: if the first add ran, the retry is a
 * dedupe hit that names our own job (`enqueued`); if it did not, the retry stores it. Only when
 * Redis is not back before the deadline does the answer stay 503 with the outcome unknown (the
 * regression test is test/server/enqueue-reply-lost.test.ts).
 *
 * @example
 *   const producer = createEventsProducer({ connection: createRedis(url, 'producer'), dedupeTtlSeconds: 604800 })
 *   if ((await producer.enqueue(job)) === 'duplicate') reply(200, { duplicate: true })
 */
/** Attempts per event: with the router's capped backoff, about 16 hours of retries. */
export const EVENT_ATTEMPTS = 200

export function createEventsProducer(options: EventsProducerOptions): EventsProducer {
  const { connection, dedupeTtlSeconds } = options
  const timeoutMs = options.timeoutMs ?? 2000
  const waitReplicas = options.waitReplicas ?? 0
  const waitTimeoutMs = options.waitTimeoutMs ?? 500
  if (waitReplicas > 0 && connection instanceof Cluster)
    throw new Error(
      'redis.waitReplicas is not supported with a redis+cluster:// URL (WAIT must reach the node that took the write); set it to 0',
    )
  const queue = new Queue(EVENTS_QUEUE, {
    connection,
    prefix: options.prefix ?? DEFAULT_PREFIX,
    defaultJobOptions: {
      // The router retries transient failures (Gitea or Redis away) with a capped backoff (its
      // worker defines 'capped': 1 s doubling up to 5 min by default), so 200 attempts outlast an
      // outage of about 16 hours: an outage delays commands, it does not drop them.
      attempts: EVENT_ATTEMPTS,
      backoff: { type: 'capped' },
      // Dedupe does not need finished jobs; keep a day of them for inspection.
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  })
  // BullMQ re-emits connection errors; the ingress reports them as 503s, so do not crash here.
  queue.on('error', () => undefined)

  return {
    async enqueue(job) {
      let timer: NodeJS.Timeout | undefined
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new QueueUnavailableError(`redis did not answer within ${timeoutMs} ms`)),
          timeoutMs,
        )
      })
      const proposed = `${job.deliveryId}.${randomBytes(6).toString('hex')}`
      const add = () =>
        Promise.race([
          queue.add(job.event, job, {
            jobId: proposed,
            deduplication: { id: job.deliveryId, ttl: dedupeTtlSeconds * 1000 },
          }),
          deadline,
        ])
      try {
        await Promise.race([connected(connection), deadline])
        let added
        try {
          added = await add()
        } catch (err) {
          if (err instanceof QueueUnavailableError) throw err
          // Sent, then failed: maybe run with the reply lost. Retrying is safe (see above).
          await readyAgain(connection, deadline)
          added = await add()
        }
        // WAIT counts this connection's writes, the add's included; a deduplicated add writes its
        // `deduplicated` event after the first add's job, so it covers that one too.
        if (waitReplicas > 0) {
          const acked = Number(
            await Promise.race([connection.call('WAIT', waitReplicas, waitTimeoutMs), deadline]),
          )
          if (acked < waitReplicas)
            throw new QueueUnavailableError(
              `${acked} of ${waitReplicas} replicas confirmed the event within ${waitTimeoutMs} ms`,
            )
        }
        return added.id === proposed ? 'enqueued' : 'duplicate'
      } catch (err) {
        if (err instanceof QueueUnavailableError) throw err
        throw new QueueUnavailableError(err instanceof Error ? err.message : String(err), { cause: err })
      } finally {
        clearTimeout(timer)
      }
    },
    async close() {
      await queue.close()
    },
  }
}
