import { createHash } from 'node:crypto'
import type { ChainableCommander, Cluster, Redis } from 'ioredis'

/**
 * A Lua script run by its SHA1 (`EVALSHA`), sent in full (`EVAL`) only when Redis does not know
 * it yet (first use, after a restart or `SCRIPT FLUSH`). `EVAL` on every call sends the whole
 * script text and makes Redis hash it each time; on the hot path (rate limits, job transitions,
 * breaker, audit) that was eight script bodies per command.
 *
 * @example
 *   const INCR_TO = new LuaScript(`return redis.call('INCRBY', KEYS[1], ARGV[1])`)
 *   const n = await INCR_TO.run(redis, ['{uw}:n'], [5])
 */
export class LuaScript {
  readonly sha: string
  /** The command name `addTo` queues (ioredis `defineCommand`). */
  private readonly command: string

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex')
    this.command = `uwScript${this.sha.slice(0, 16)}`
  }

  /**
   * Defines the script on `client` as an ioredis command (once), so MULTIs and pipelines created
   * from the client afterwards can carry it (`addTo`). ioredis sends such a command as `EVAL` the
   * first time on each connection and `EVALSHA` after, so a MULTI never meets NOSCRIPT after a
   * reconnect (a `SCRIPT FLUSH` while connected still would, as for BullMQ's own scripts).
   */
  define(client: Redis | Cluster): void {
    if (!(this.command in client)) client.defineCommand(this.command, { lua: this.source })
  }

  /**
   * Queues the script on a MULTI or pipeline, so it travels in the same write as the other
   * queued commands. The client it came from must have been given to `define` before.
   *
   * @example
   *   INCR_TO.define(redis)
   *   const multi = redis.multi()
   *   INCR_TO.addTo(multi, ['{uw}:n'], [5])
   *   await multi.exec()
   */
  addTo(pipeline: ChainableCommander, keys: readonly string[], args: readonly (string | number)[]): void {
    const send = (pipeline as unknown as Record<string, unknown>)[this.command]
    if (typeof send !== 'function')
      throw new Error('LuaScript.addTo: define the script on the client before creating the pipeline')
    ;(send as (...a: (string | number)[]) => unknown).call(pipeline, keys.length, ...keys, ...args)
  }

  async run(
    redis: Redis | Cluster,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args)
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err
      return redis.eval(this.source, keys.length, ...keys, ...args)
    }
  }
}
