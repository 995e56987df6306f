import { z } from 'zod'
import { HousesSection } from './house-policy.js'
import { IntelligenceConfig } from '../intelligence/intelligence-config.js'

/** Circuit breaker thresholds (per tool × house). */
export const BreakerConfig = z
  .object({
    /** Failures within `windowMs` that open the circuit. */
    failureThreshold: z.number().int().min(1).default(5),
    windowMs: z.number().int().positive().default(60_000),
    /** How long an open circuit fails fast before one probe is let through. */
    cooldownMs: z.number().int().positive().default(30_000),
    /**
     * How long a worker trusts a closed circuit it read from Redis before asking again, so a busy
     * tool does not pay a round trip per call. A circuit another process opened is seen at most
     * this late; this process's own failures are always sent at once. 0 asks on every call.
     */
    closedCacheMs: z.number().int().min(0).default(1_000),
  })
  .strict()
export type BreakerConfig = z.infer<typeof BreakerConfig>

/** Retry of transient failures: exponential backoff with full jitter. */
export const RetryConfig = z
  .object({
    maxAttempts: z.number().int().min(1).max(20).default(3),
    baseDelayMs: z.number().int().min(0).default(200),
    maxDelayMs: z.number().int().min(0).default(5_000),
  })
  .strict()
export type RetryConfig = z.infer<typeof RetryConfig>

/**
 * The sections of the YAML file the harness reads. Custom tools are declared with the other tool
 * settings (`toolSettings.customTools`, owned by src/tools), not here.
 */
export const HarnessConfig = z.object({
  houses: HousesSection.default({}),
  breaker: BreakerConfig.default(BreakerConfig.parse({})),
  retry: RetryConfig.default(RetryConfig.parse({})),
  output: z
    .object({
      maxBytes: z
        .number()
        .int()
        .min(1024)
        .default(64 * 1024),
    })
    .strict()
    .default({ maxBytes: 64 * 1024 }),
  keys: z
    .object({
      dir: z.string().min(1).optional(),
      /**
       * Router public keys a worker trusts for approval attestations: PEM text, or paths of PEM
       * files. Default: `<keys.dir>/_router.pub` when it exists.
       */
      routerPublicKeys: z.array(z.string().min(1)).optional(),
      /**
       * Accept approvals in the old format (signed with the timmy house key, not bound to a house
       * or job) whatever their expiry. Only for a rolling upgrade that runs workers before the
       * router: it trusts whoever holds timmy.key. Without it, a legacy approval counts only when
       * it was necessarily issued before the upgrade (see `legacyApprovalGraceSeconds`).
       */
      acceptLegacyApprovals: z.boolean().default(false),
      /**
       * The longest approval lifetime the old router could have given: a legacy approval whose
       * signed expiry is at most this long after `_router.created` (when this key directory first
       * had or trusted a router key) was issued before the upgrade, and is accepted. Later ones
       * never are. Default `commands.approvalTtlSeconds` in the daemon, one day in a library.
       */
      legacyApprovalGraceSeconds: z.number().int().min(0).optional(),
    })
    .strict()
    .default({ acceptLegacyApprovals: false }),
  audit: z
    .object({ path: z.string().min(1).optional() })
    .strict()
    .default({}),
  /** Pattern store, predictions and what INTELLIGENT mode adapts (docs/INTELLIGENCE.md). */
  intelligence: IntelligenceConfig.prefault({}),
})
export type HarnessConfig = z.infer<typeof HarnessConfig>
export type HarnessConfigInput = z.input<typeof HarnessConfig>
