import { createHistogram, type RecordableHistogram } from 'node:perf_hooks'
import type { Logger } from '../logger.js'
import type { RedisClient } from '../queue/connection.js'
import { Hysteresis } from './hysteresis.js'
import type { StressConfig } from './stress-config.js'

/** The signals a worker can be stressed by, as the `signal` label of the stress metrics. */
export const STRESS_SIGNALS = ['event_loop', 'queue_wait', 'redis_latency'] as const
export type StressSignal = (typeof STRESS_SIGNALS)[number]

/** One signal's state for one house: whether it is on, its latest value, the last one past its bound, and the bound. */
export interface StressReading {
  signal: StressSignal
  on: boolean
  valueMs: number
  peakMs: number
  boundMs: number
}

/** What a house's worker and harness need: why the house is stressed now, and its jobs' queue waits. */
export interface HouseStress {
  /** Why INTELLIGENT calls should run as SIMPLE now (`event-loop lag 240 ms > 200 ms`), else undefined. */
  degraded(): string | undefined
  /** The time a job being started waited in the house's queue. */
  observeQueueWait(ms: number): void
}

/** Period of the timer whose delay is the event-loop lag. */
const RESOLUTION_MS = 20
/** Weight of the newest PING in the smoothed Redis latency. */
const PING_WEIGHT = 0.3

const WHAT: Record<StressSignal, string> = {
  event_loop: 'event-loop lag',
  queue_wait: 'queue wait',
  redis_latency: 'Redis latency',
}

/**
 * Watches the stress of a worker process: event-loop lag (p99 of how late a 20-ms timer fires,
 * over a window of `sampleMs`; a timer that is late right now counts at once), Redis latency (a
 * `PING` every `sampleMs` on the worker's connection, smoothed; one still unanswered counts as
 * long as it has waited) and, per house, how long the job being started waited in its queue. Each signal has hysteresis (`Hysteresis`). A house is
 * degraded while any of its signals is on; the process-wide ones count for every house.
 *
 * @example
 *   const stress = new StressMonitor({ config: file.daemon.workers.stress, redis }).start()
 *   new Harness({ house: 'ezra', stress: stress.house('ezra') })
 *   stress.stop()
 */
export class StressMonitor {
  private readonly eventLoop: Hysteresis
  private readonly redisLatency: Hysteresis
  private readonly queueWaits = new Map<string, Hysteresis>()
  // What `monitorEventLoopDelay` measures, measured here: its histogram cannot be windowed (its
  // reset drops the sample spanning it, which after a stall is the stall itself).
  private readonly delays: RecordableHistogram = createHistogram()
  private readonly now: () => number
  private timer: NodeJS.Timeout | undefined
  private lagTimer: NodeJS.Timeout | undefined
  private lastBeat = 0
  private pingSince: number | undefined
  private smoothedPing: number | undefined

  constructor(
    private readonly opts: {
      config: StressConfig
      /** Where the latency is measured; without it, Redis latency is not watched. */
      redis?: RedisClient
      /** Monotonic ms, for tests. Default `performance.now`. */
      now?: () => number
      log?: Logger
    },
  ) {
    this.eventLoop = this.signal(opts.config.eventLoopLagMs)
    this.redisLatency = this.signal(opts.config.redisLatencyMs)
    this.now = opts.now ?? (() => performance.now())
  }

  /** Starts measuring (the timer does not keep the process alive). */
  start(): this {
    if (this.timer) return this
    this.lastBeat = this.now()
    this.lagTimer = setInterval(() => {
      const t = this.now()
      this.delays.record(Math.max(1, Math.round((t - this.lastBeat - RESOLUTION_MS) * 1000)))
      this.lastBeat = t
    }, RESOLUTION_MS)
    this.lagTimer.unref()
    this.timer = setInterval(() => this.tick(), this.opts.config.sampleMs)
    this.timer.unref()
    this.ping()
    return this
  }

  stop(): void {
    clearInterval(this.timer)
    clearInterval(this.lagTimer)
    this.timer = undefined
  }

  /** The view of one house (registers it for the metrics). */
  house(name: string): HouseStress {
    this.queueWait(name)
    return {
      degraded: () => this.degraded(name),
      observeQueueWait: (ms) => this.observeQueueWait(name, ms),
    }
  }

  /** The houses watched here, in the order they were registered. */
  houses(): string[] {
    return [...this.queueWaits.keys()]
  }

  observeQueueWait(house: string, ms: number): void {
    this.queueWait(house).update(Math.max(0, ms), this.now())
  }

  /**
   * Why the house counts as stressed now, every signal that is on (`event-loop lag 240 ms > 200
   * ms; Redis latency 130 ms > 100 ms`), or undefined. Looks at the event loop and an unanswered
   * PING as they are now, not only at the last sample.
   */
  degraded(house: string): string | undefined {
    this.sampleEventLoop()
    this.samplePendingPing()
    const on = this.readings(house).filter((r) => r.on)
    if (on.length === 0) return undefined
    return on.map((r) => `${WHAT[r.signal]} ${ms(r.peakMs)} > ${ms(r.boundMs)}`).join('; ')
  }

  /** Every signal's state for a house (the process-wide ones are the same for every house). */
  readings(house: string): StressReading[] {
    return STRESS_SIGNALS.map((signal) => {
      const h =
        signal === 'event_loop'
          ? this.eventLoop
          : signal === 'queue_wait'
            ? this.queueWait(house)
            : this.redisLatency
      return { signal, on: h.on, valueMs: h.value, peakMs: h.peak, boundMs: h.limits.bound }
    })
  }

  private signal(bound: number): Hysteresis {
    const { recoverRatio, recoverAfterMs } = this.opts.config
    return new Hysteresis({ bound, recoverRatio, recoverAfterMs })
  }

  private queueWait(house: string): Hysteresis {
    let q = this.queueWaits.get(house)
    if (!q) {
      q = this.signal(this.opts.config.queueWaitMs)
      this.queueWaits.set(house, q)
    }
    return q
  }

  private tick(): void {
    this.sampleEventLoop()
    this.delays.reset()
    this.samplePendingPing()
    this.ping()
  }

  /** The window so far: p99 of the timer's delays, or how late it is now if that is more. */
  private sampleEventLoop(): void {
    if (!this.timer) return
    const p99 = this.delays.count > 0 ? this.delays.percentile(99) / 1000 : 0
    const lateNow = this.now() - this.lastBeat - RESOLUTION_MS
    this.eventLoop.update(Math.max(0, p99, lateNow), this.now())
  }

  private ping(): void {
    const redis = this.opts.redis
    if (!redis || this.pingSince !== undefined) return
    const since = this.now()
    this.pingSince = since
    const done = () => {
      if (this.pingSince !== since) return
      this.pingSince = undefined
      const rtt = this.now() - since
      this.smoothedPing =
        this.smoothedPing === undefined ? rtt : PING_WEIGHT * rtt + (1 - PING_WEIGHT) * this.smoothedPing
      this.redisLatency.update(this.smoothedPing, this.now())
    }
    redis.ping().then(done, (err: unknown) => {
      // A failed PING counts as long as it took; a Redis that is away leaves it unanswered instead.
      this.opts.log?.debug({ err }, 'stress PING failed')
      done()
    })
  }

  /** An unanswered PING counts as long as it has waited (Redis paused, blocked or away). */
  private samplePendingPing(): void {
    if (this.pingSince === undefined) return
    const waited = this.now() - this.pingSince
    if (waited > (this.smoothedPing ?? 0)) this.redisLatency.update(waited, this.now())
  }
}

/** `240 ms`, `1.5 s`, `60 s`. */
function ms(v: number): string {
  if (v < 1000) return `${Math.round(v)} ms`
  return `${(v / 1000).toFixed(1).replace(/\.0$/, '')} s`
}
