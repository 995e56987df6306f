import type { Logger } from '../logger.js'
import type { RedisClient } from '../queue/connection.js'
import { settleWithin } from '../settle-within.js'
import { registerInstance, unregisterInstance, type InstanceInfo } from './instance-registry.js'

/** How long removing the entry at a stop may take (skipped when Redis is not connected). */
const UNREGISTER_WAIT_MS = 500

/** A running registration; `stop` removes the entry (bounded, also with Redis away). */
export interface InstanceBeacon {
  info: InstanceInfo
  stop(): Promise<void>
}

/**
 * Registers this process in Redis now and every `periodMs` (the entry lives three periods), so
 * `uni-wizard health` and the other instances find it; a failed beat is logged and tried again.
 *
 * @example
 *   const beacon = await startInstanceBeacon({ redis, prefix: '{uw}', info, periodMs: 5000, log })
 *   await beacon.stop()
 */
export async function startInstanceBeacon(opts: {
  redis: RedisClient
  prefix: string
  info: InstanceInfo
  periodMs: number
  log: Logger
}): Promise<InstanceBeacon> {
  const { redis, prefix, info, periodMs, log } = opts
  const beat = () =>
    registerInstance(redis, prefix, info, periodMs * 3).catch((err: unknown) =>
      log.warn({ err }, 'instance registration failed'),
    )
  await beat()
  const timer = setInterval(() => void beat(), periodMs)
  timer.unref()
  return {
    info,
    async stop() {
      clearInterval(timer)
      if (redis.status !== 'ready') return
      await settleWithin(
        unregisterInstance(redis, prefix, info.id).catch(() => undefined),
        UNREGISTER_WAIT_MS,
      )
    },
  }
}
