import { setTimeout as delay } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { createRedis, type RedisClient } from '../../src/queue/connection.js'
import { ReplicaWait } from '../../src/queue/replica-wait.js'
import { testRedisUrl } from '../helpers/redis.js'

// The shared test Redis has no replica, so `WAIT 1` is never met there: a confirmation holds until
// a reconnect or an abort ends it. A replica that confirms, and a failover in the middle, are in
// test/resilience/redis-failover.test.ts ("a run whose start or end the replica has not got").
describe('ReplicaWait', () => {
  let connection: RedisClient | undefined
  let replicas: ReplicaWait | undefined
  afterEach(() => {
    replicas?.close()
    connection?.disconnect()
  })

  const ready = async (c: RedisClient) => {
    while (c.status !== 'ready') await delay(10)
  }

  it('confirms at once when no replica is asked for', async () => {
    connection = createRedis(testRedisUrl(), 'worker')
    await ready(connection)
    replicas = new ReplicaWait(connection, { replicas: 0, timeoutMs: 50, key: 'uw-test:replica-wait' })
    await connection.set('uw-test:replica-wait', '1', 'EX', 5)
    expect(await replicas.confirm(Date.now())).toBe(true)
  })

  it('holds while too few replicas confirm, and answers false once the connection reconnected', async () => {
    connection = createRedis(testRedisUrl(), 'worker')
    await ready(connection)
    replicas = new ReplicaWait(connection, { replicas: 1, timeoutMs: 50, key: 'uw-test:replica-wait' })
    const since = Date.now()
    await connection.set('uw-test:replica-wait', '1', 'EX', 5)
    let settled: boolean | undefined
    const confirming = replicas.confirm(since).then((v) => (settled = v))
    await delay(300) // several WAITs of 50 ms, none met
    expect(settled).toBeUndefined()
    // A reconnect (a failover, say): what was written before may be gone, so not confirmed.
    const c = connection
    c.disconnect(true)
    expect(await confirming).toBe(false)
    // Writes sent after the reconnect are judged afresh: still held, no replica.
    await ready(c)
    await delay(5)
    const again = new AbortController()
    let laterSettled: boolean | undefined
    const later = replicas.confirm(Date.now(), again.signal).then((v) => (laterSettled = v))
    await delay(200)
    expect(laterSettled).toBeUndefined()
    // An abort (a cancel, a shutdown) ends the hold.
    again.abort()
    expect(await later).toBe(false)
  })

  it('refuses a Cluster connection, where WAIT would not reach the node that took the write', () => {
    const cluster = createRedis('redis+cluster://127.0.0.1:1', 'producer', { lazyConnect: true })
    try {
      expect(
        () => new ReplicaWait(cluster, { replicas: 1, timeoutMs: 50, key: 'uw-test:replica-wait' }),
      ).toThrow(/not supported/)
    } finally {
      cluster.disconnect()
    }
  })
})
