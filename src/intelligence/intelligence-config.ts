import { z } from 'zod'
import type { Decay } from './pattern-stats.js'

/**
 * The `intelligence:` section of the YAML config (docs/INTELLIGENCE.md): how fast history fades,
 * how much of it a prediction needs, and the bounds of what INTELLIGENT mode adapts.
 *
 * @example
 *   # uw.yaml
 *   intelligence:
 *     halfLifeHours: 72
 *     minSamples: 10
 *     successFloor: 0.6
 *     timeout: { factor: 1.5, minMs: 1000, maxMs: 600000 }
 */
export const IntelligenceConfig = z
  .object({
    /** An outcome weighs half as much this many hours later (exponentially decayed counts). */
    halfLifeHours: z
      .number()
      .positive()
      .max(24 * 365)
      .default(72),
    /**
     * Effective runs a prediction needs: below, it says "not enough history" and no timeout is
     * adapted (routing draws from every house's posterior, thin or not).
     */
    minSamples: z.number().positive().max(1000).default(10),
    /** A house whose predicted success rate for a tool falls below this is flagged (`/houses`, metrics). */
    successFloor: z.number().min(0).max(1).default(0.5),
    timeout: z
      .object({
        /** The adapted timeout is this many times the observed p90 duration... */
        factor: z.number().min(1).max(100).default(1.5),
        /** ...but never shorter than this... */
        minMs: z.number().int().positive().default(1_000),
        /** ...nor longer than this, nor than the tool's configured timeout. */
        maxMs: z
          .number()
          .int()
          .positive()
          .default(30 * 60_000),
      })
      .strict()
      .refine((t) => t.minMs <= t.maxMs, { message: 'timeout.minMs must not exceed timeout.maxMs' })
      .prefault({}),
    retry: z
      .object({
        /**
         * Effective retries of a failure kind after which its record decides: a transient kind
         * whose retries recovered less often than `minRecoveryRate` is no longer retried.
         */
        minSamples: z.number().positive().max(1000).default(3),
        minRecoveryRate: z.number().min(0).max(1).default(0.2),
      })
      .strict()
      .prefault({}),
    /**
     * The change detector (docs/INTELLIGENCE.md): a record restarts from its recent outcomes when
     * they disagree with its older history by more than `z` standard deviations.
     */
    change: z
      .object({
        enabled: z.boolean().default(true),
        /** Half-life of the recent (fast) counts; default: `halfLifeHours` / 8. */
        fastHalfLifeHours: z.number().positive().optional(),
        /** How far (in standard deviations) recent and older success rates may differ by noise. */
        z: z.number().min(1).max(20).default(2.5),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .refine((c) => c.change.fastHalfLifeHours === undefined || c.change.fastHalfLifeHours < c.halfLifeHours, {
    message: 'change.fastHalfLifeHours must be shorter than halfLifeHours',
    path: ['change', 'fastHalfLifeHours'],
  })
export type IntelligenceConfig = z.infer<typeof IntelligenceConfig>

/** The fast half-life's default share of `halfLifeHours`. */
export const FAST_HALF_LIFE_RATIO = 1 / 8

/**
 * How records fade and restart under this configuration.
 *
 * @example
 *   decayOf(DEFAULT_INTELLIGENCE) // { halfLifeMs: 259200000, fastHalfLifeMs: 32400000, changeZ: 2.5 }
 */
export function decayOf(config: IntelligenceConfig): Decay {
  const halfLifeMs = config.halfLifeHours * 3600_000
  return {
    halfLifeMs,
    fastHalfLifeMs:
      (config.change.fastHalfLifeHours ?? config.halfLifeHours * FAST_HALF_LIFE_RATIO) * 3600_000,
    changeZ: config.change.enabled ? config.change.z : Number.POSITIVE_INFINITY,
  }
}

/** The defaults, for a library caller that configures nothing. */
export const DEFAULT_INTELLIGENCE: IntelligenceConfig = IntelligenceConfig.parse({})
