import { createHash } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'

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
