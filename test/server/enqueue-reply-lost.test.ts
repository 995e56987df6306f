// Regression test for a finding of the resilience suite (redis-restart): Redis stopped while
// answering an add ran it but lost the reply, so the ingress answered 503 for a delivery that was
// in fact queued and marked as seen. A TCP proxy reproduces it exactly: it forwards the add, drops
// Redis's reply, cuts the connection and refuses reconnections for a while.
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import type { EventJob } from '../../src/events/payloads.js'
import { createRedis } from '../../src/queue/connection.js'
import { createEventsProducer, EVENTS_QUEUE } from '../../src/queue/events-producer.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

/**
 * A proxy to Redis that, once armed, swallows the reply to the request holding `marker`, then
 * stops listening for `refuseMs` (connections are refused, as with a Redis that is restarting).
 */
async function replyLosingProxy(target: URL): Promise<{
  url: string
  arm(marker: string, refuseMs: number): void
  close(): Promise<void>
}> {
  let armed: { marker: string; refuseMs: number } | undefined
  const sockets = new Set<Socket>()
  const track = (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  }
  const server: Server = createServer((client) => {
    track(client)
    const upstream = createConnection(Number(target.port), target.hostname)
    track(upstream)
    let swallow = false
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk)
      const trap = armed
      if (trap && chunk.includes(trap.marker)) {
        armed = undefined
        swallow = true
        // Give Redis time to run the command, then cut every connection before the answer
        // arrives and refuse new ones for a while.
        setTimeout(() => {
          server.close()
          for (const s of sockets) s.destroy()
          setTimeout(() => server.listen(port, '127.0.0.1'), trap.refuseMs)
        }, 100)
      }
    })
    upstream.on('data', (chunk: Buffer) => {
      if (!swallow) client.write(chunk)
    })
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return {
    // The same credentials as the target: the proxy only forwards bytes.
    url: `redis://${target.password ? `:${target.password}@` : ''}127.0.0.1:${port}`,
    arm: (marker, refuseMs) => {
      armed = { marker, refuseMs }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        if (!server.listening) resolve()
        else server.close(() => resolve())
      }),
  }
}

function job(deliveryId: string): EventJob {
  return {
    deliveryId,
    event: 'issue_comment',
    action: 'created',
    receivedAt: new Date().toISOString(),
    payload: { marker: deliveryId },
  } as unknown as EventJob
}

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

describe('events producer when Redis loses the reply to an add', () => {
  it('answers enqueued (not 503) once Redis is back, and the delivery is queued exactly once', async () => {
    const prefix = uniquePrefix()
    const proxy = await replyLosingProxy(new URL(testRedisUrl()))
    const connection = createRedis(proxy.url, 'producer')
    connection.on('error', () => undefined)
    const producer = createEventsProducer({ connection, prefix, dedupeTtlSeconds: 60, timeoutMs: 3000 })
    const inspector = new Redis(testRedisUrl())
    const queue = new Queue(EVENTS_QUEUE, { connection: inspector, prefix })
    cleanups.push(async () => {
      await producer.close()
      connection.disconnect()
      await queue.close()
      inspector.disconnect()
      await proxy.close()
      await cleanupPrefix(prefix)
    })
    expect(await producer.enqueue(job('warm-up-delivery'))).toBe('enqueued')

    // Down for longer than ioredis's first reconnection attempt, so its own resend gives up.
    proxy.arm('lost-reply-delivery', 400)
    expect(await producer.enqueue(job('lost-reply-delivery'))).toBe('enqueued')

    await delay(50)
    const jobs = await queue.getJobs(['waiting'])
    expect(jobs.filter((j) => (j.data as EventJob).deliveryId === 'lost-reply-delivery')).toHaveLength(1)
    // And a redelivery is the duplicate it should be.
    expect(await producer.enqueue(job('lost-reply-delivery'))).toBe('duplicate')
  })

  it('still refuses when Redis is away before the add is sent', async () => {
    const prefix = uniquePrefix()
    const proxy = await replyLosingProxy(new URL(testRedisUrl()))
    const connection = createRedis(proxy.url, 'producer')
    connection.on('error', () => undefined)
    const producer = createEventsProducer({ connection, prefix, dedupeTtlSeconds: 60 })
    cleanups.push(async () => {
      await producer.close()
      connection.disconnect()
      await proxy.close()
      await cleanupPrefix(prefix)
    })
    expect(await producer.enqueue(job('first'))).toBe('enqueued')
    await proxy.close()
    connection.disconnect(true)
    await delay(20)
    await expect(producer.enqueue(job('second'))).rejects.toThrow(/redis/i)
  })
})
