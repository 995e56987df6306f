import { Cluster } from 'ioredis'
import type { RedisClient } from './connection.js'

/**
 * Tells whether a connection's writes reached `replicas` replicas (Redis `WAIT`), so a house
 * worker acts on a write (runs the tool after marking the run started, lets BullMQ complete the
 * job after ending the run) only once a failover can no longer lose it.
 *
 * `WAIT` counts the writes of the connection it is sent on, up to its latest one, and the
 * replication stream is ordered, so a confirmed `WAIT` also covers every write the primary ran
 * before (another connection's `moveToActive`, say). After a reconnect it means nothing: a new
 * connection has written nothing, and the primary may be a new one that never had the writes.
 * So a reconnect since the writes were sent answers "not confirmed", and the caller writes again
 * or gives the step up.
 *
 * @example
 *   const replicas = new ReplicaWait(connection, { replicas: 1, timeoutMs: 500 })
 *   const since = Date.now()
 *   await store.endRun(...)
 *   if (!(await replicas.confirm(since))) // end it again: the first may be lost
 */
export class ReplicaWait {
  private readyAt = 0
  private readonly replicas: number
  private readonly timeoutMs: number

  constructor(
    private readonly connection: RedisClient,
    opts: { replicas: number; timeoutMs: number },
  ) {
    if (connection instanceof Cluster)
      throw new Error(
        'redis.waitReplicas is not supported with a redis+cluster:// URL (WAIT must reach the node that took the write); set it to 0',
      )
    this.replicas = opts.replicas
    this.timeoutMs = opts.timeoutMs
    connection.on('ready', () => {
      this.readyAt = Date.now()
    })
  }

  /**
   * Resolves true once the writes this connection sent since `sinceMs` (a `Date.now()` taken
   * before sending them) are on the replicas; false as soon as the connection has reconnected
   * since then (they may be lost). While the primary has too few replicas it keeps waiting, in
   * `WAIT`s of `timeoutMs`: a worker holds its run rather than act on a write it could lose.
   * Also false once `signal` is aborted (a cancel, a shutdown). Rejects when Redis refuses `WAIT`.
   */
  async confirm(sinceMs: number, signal?: AbortSignal): Promise<boolean> {
    for (;;) {
      if (this.readyAt >= sinceMs || signal?.aborted) return false
      // An error (WAIT refused, on a replica say) is thrown: the caller's attempt fails and is retried.
      const acked = Number(await this.connection.call('WAIT', this.replicas, this.timeoutMs))
      if (this.readyAt >= sinceMs) return false
      if (acked >= this.replicas) return true
    }
  }
}
