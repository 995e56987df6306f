import { Gauge, type Registry } from 'prom-client'

/**
 * Registers `uw_redis_up`: 1 when this process's Redis answers PING within `timeoutMs` at scrape
 * time, else 0. Unlike Prometheus' `up` (the process answers), it says whether the process can
 * do its work.
 *
 * @example
 *   registerRedisUp(registry, () => connection.ping())
 */
export function registerRedisUp(registry: Registry, ping: () => Promise<unknown>, timeoutMs = 1000): void {
  new Gauge({
    name: 'uw_redis_up',
    help: "1 when this process's Redis answers PING at scrape time, else 0.",
    registers: [registry],
    async collect() {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no PONG')), timeoutMs)
      })
      const up = await Promise.race([ping(), timeout]).then(
        () => 1,
        () => 0,
      )
      clearTimeout(timer)
      this.set(up)
    },
  })
}
