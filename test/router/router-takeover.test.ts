// A router event whose router died, or whose fetch answer a Redis failover lost (the job moved to
// active on the server, the router never told), must be taken over soon and never be dropped:
// - with BullMQ's defaults (30 s lock, 30 s stalled check) it waited up to a minute, which the
//   Sentinel failover test saw as commands without an ack after 60 s;
// - with BullMQ's default `maxStalledCount` of 1, an event taken over twice was failed as stalled:
//   the command silently dropped.
// The router now takes the loop's lock settings (`daemon.workers`) and takes an event over up to
// KEYED_WORK_MAX_STALLED times (its effects are keyed, safe to apply again).
import { readFileSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import { Queue, Worker } from 'bullmq'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Executor } from '../../src/effects/executor.js'
import type { EventHandler, EventHandlerContext } from '../../src/router/event-handler.js'
import type { HandlerContextDeps } from '../../src/router/handler-context.js'
import { createLogger } from '../../src/logger.js'
import { createRedis } from '../../src/queue/connection.js'
import { EVENTS_QUEUE } from '../../src/queue/events-producer.js'
import { startRouter, type RunningRouter } from '../../src/router/router.js'
import type { RedisClient } from '../../src/queue/connection.js'
import { until } from '../e2e/loop-world.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

const opened = JSON.parse(
  readFileSync(new URL('../fixtures/gitea-webhooks/issues-opened.json', import.meta.url), 'utf8'),
) as unknown
const LOCKS = { lockDurationMs: 1000, stalledIntervalMs: 500 }
const log = createLogger({ level: 'silent' })

let redis: RedisClient
let prefix: string
let events: Queue
let router: RunningRouter | undefined
let routerConnection: RedisClient | undefined
/** Handlers held as "dead" routers; released before the router closes, so it can. */
const released: (() => void)[] = []

beforeAll(() => {
  redis = createRedis(testRedisUrl(), 'worker')
})
afterAll(() => redis.disconnect())
afterEach(async () => {
  for (const r of released.splice(0)) r()
  await router?.close()
  routerConnection?.disconnect()
  router = undefined
  await events.close()
  await cleanupPrefix(prefix)
})

function newQueue(): void {
  prefix = uniquePrefix()
  events = new Queue(EVENTS_QUEUE, { connection: redis as never, prefix })
}

async function addEvent(): Promise<string> {
  const deliveryId = randomUUID()
  const job = await events.add('issues', {
    deliveryId,
    event: 'issues',
    action: 'opened',
    receivedAt: new Date().toISOString(),
    payload: opened,
  })
  return job.id!
}

/** A router whose only handler is `handler`; nothing else is needed to route an `issues` event. */
async function start(handler: EventHandler['handle']): Promise<void> {
  router = await startRouter({
    connection: (routerConnection = createRedis(testRedisUrl(), 'worker')),
    prefix,
    executor: { apply: async () => [] } as unknown as Executor,
    commentHandlers: [],
    eventHandlers: [{ name: 'probe', accepts: () => true, handle: handler }],
    eventContext: { botLogin: 'uni-wizard', log } as unknown as EventHandlerContext,
    context: { botLogin: 'uni-wizard' } as unknown as HandlerContextDeps,
    concurrency: 4,
    locks: LOCKS,
    log,
  })
}

describe('router events taken over', () => {
  it('an event fetched by a router that never got the answer is routed within a few seconds', async () => {
    newQueue()
    const id = await addEvent()
    // The lost answer: the job is moved to active under a lock nobody renews.
    const ghost = new Worker(EVENTS_QUEUE, null, {
      connection: redis.duplicate() as never,
      prefix,
      lockDuration: 1000,
    })
    const fetched = await ghost.getNextJob('ghost-token')
    expect(fetched?.id).toBe(id)
    await ghost.close()
    expect(await (await events.getJob(id))?.getState()).toBe('active')

    const seen: string[] = []
    await start(async (event) => {
      seen.push(event.deliveryId)
      return []
    })
    // BullMQ's defaults would leave it active for 30-60 s; the loop's locks bring it back in ~2 s.
    await until(
      'the orphaned event completed',
      async () => ((await (await events.getJob(id))?.getState()) === 'completed' ? true : undefined),
      10_000,
    )
    expect(seen).toHaveLength(1)
  }, 20_000)

  it('an event taken over three times is still routed, not failed as stalled', async () => {
    newQueue()
    const id = await addEvent()
    let calls = 0
    await start(async () => {
      calls++
      // The first three routers to take it "die": their lock is removed, as when a router process
      // is killed, and the stalled check hands the event to the next one.
      if (calls <= 3) {
        await redis.del(`${prefix}:${EVENTS_QUEUE}:${id}:lock`)
        await new Promise<void>((resolve) => released.push(resolve))
      }
      return []
    })
    await until('three takeovers', async () => (calls >= 4 ? true : undefined), 15_000)
    const job = await until(
      'the event completed',
      async () => {
        const j = await events.getJob(id)
        return j && ['completed', 'failed'].includes(await j.getState()) ? j : undefined
      },
      10_000,
    )
    expect({ state: await job.getState(), failedReason: job.failedReason }).toEqual({
      state: 'completed',
      failedReason: undefined,
    })
    expect(calls).toBe(4)
  }, 30_000)
})
