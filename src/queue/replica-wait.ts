import { Cluster } from 'ioredis'
import type { RedisClient } from './connection.js'

/**
 * Tells whether a connection's writes reached `replicas` replicas (Redis `WAIT`), so a house
 * worker acts on a write (runs the tool after marking the run started, lets BullMQ complete the
 * job after ending the run) only once a failover can no longer lose it.
 *
 * `WAIT` blocks the connection it is sent on, so it is not sent on the shared one (the router, the
 * reporter and BullMQ would queue behind it while the primary lacks a replica): a connection of
 * its own writes a marker key, then waits for that. The replication stream is ordered, so a
 * replica that has the marker has every write the primary ran before it: the caller's writes
 * (answered before it asks) and BullMQ's move of the job to active. After a reconnect of either
 * connection that means nothing (the primary may be a new one that never had the writes), so a
 * reconnect since the writes were sent answers "not confirmed", and the caller writes again or
 * gives the step up.
 *
 * @example
 *   const replicas = new ReplicaWait(connection, { replicas: 1, timeoutMs: 500, key: '{uw}:replica-wait' })
 *   const since = Date.now()
 *   await store.endRun(...)
 *   if (!(await replicas.confirm(since))) // end it again: the first may be lost
 */
export class ReplicaWait {
  private readyAt = 0
  private queued: Promise<number> | undefined
  private inFlight: Promise<unknown> = Promise.resolve()
  private readonly probe: RedisClient
  private readonly replicas: number
  private readonly timeoutMs: number
  private readonly key: string

  constructor(connection: RedisClient, opts: { replicas: number; timeoutMs: number; key: string }) {
    if (connection instanceof Cluster)
      throw new Error(
        'redis.waitReplicas is not supported with a redis+cluster:// URL (WAIT must reach the node that took the write); set it to 0',
      )
    this.replicas = opts.replicas
    this.timeoutMs = opts.timeoutMs
    this.key = opts.key
    this.probe = connection.duplicate()
    this.probe.on('error', () => undefined) // the shared connection reports Redis errors
    // A reconnect is a `ready` after the first: that one only says the connection came up.
    for (const c of [connection, this.probe]) {
      let up = c.status === 'ready'
      c.on('ready', () => {
        if (up) this.readyAt = Date.now()
        up = true
      })
    }
  }

  /**
   * Resolves true once the writes the shared connection had answered when this was called (sent
   * after `sinceMs`, a `Date.now()` taken before sending them) are on the replicas; false as soon
   * as a connection has reconnected since then (they may be lost). While the primary has too few
   * replicas it keeps waiting, in `WAIT`s of `timeoutMs`: a worker holds its run rather than act
   * on a write it could lose. Also false once `signal` is aborted (a cancel, a shutdown). Rejects
   * when Redis refuses the marker or `WAIT`.
   */
  async confirm(sinceMs: number, signal?: AbortSignal): Promise<boolean> {
    for (;;) {
      if (this.readyAt >= sinceMs || signal?.aborted) return false
      const acked = await this.nextRound()
      if (this.readyAt >= sinceMs) return false
      if (acked >= this.replicas) return true
    }
  }

  /**
   * A round (marker, then `WAIT`) that starts after this call: joins the one queued if there is
   * one, else queues one after the round in flight. Concurrent callers share rounds, so a busy
   * worker waits for about one replica acknowledgement per round, not one per run in turn.
   */
  private nextRound(): Promise<number> {
    if (this.queued) return this.queued
    const round = this.inFlight.then(async () => {
      this.queued = undefined
      await this.probe.set(this.key, '1', 'PX', 60_000)
      return Number(await this.probe.call('WAIT', this.replicas, this.timeoutMs))
    })
    this.queued = round
    this.inFlight = round.catch(() => undefined)
    return round
  }

  /** Closes its own connection (the shared one is the caller's). */
  close(): void {
    this.probe.disconnect()
  }
}
