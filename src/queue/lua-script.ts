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

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex')
  }

  /**
   * Queues the script on a MULTI or pipeline, so it travels in the same write as the other
   * queued commands. Sent as `EVAL` with its source: inside a MULTI, a NOSCRIPT (after a `SCRIPT
   * FLUSH`, or a script evicted by Redis 7.4+) would only show in the EXEC reply, after the rest
   * of the transaction was applied, with no way to resend just this command.
   *
   * @example
   *   const multi = redis.multi()
   *   INCR_TO.addTo(multi, ['{uw}:n'], [5])
   *   await multi.exec()
   */
  addTo(pipeline: ChainableCommander, keys: readonly string[], args: readonly (string | number)[]): void {
    pipeline.eval(this.source, keys.length, ...keys, ...args)
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
