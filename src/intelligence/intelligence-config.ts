import { z } from 'zod'

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
     * Effective runs a prediction needs: below, it says "not enough history", no timeout is adapted
     * and routing explores the house instead of judging it.
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
  })
  .strict()
export type IntelligenceConfig = z.infer<typeof IntelligenceConfig>

/** The defaults, for a library caller that configures nothing. */
export const DEFAULT_INTELLIGENCE: IntelligenceConfig = IntelligenceConfig.parse({})
