import type { RedisClient } from '../queue/connection.js'
import { decayOf, type IntelligenceConfig } from './intelligence-config.js'
import { PatternIntelligence } from './pattern-intelligence.js'
import { RedisPatternStore } from './pattern-store.js'

/**
 * The predictions of a bot process over the shared Redis store, knowing each house's configured
 * timeouts (for the adapted one `/predict` shows): what the router gives commands, the metrics
 * read and the CLI prints.
 *
 * @example
 *   const intel = intelligenceFor({ redis, prefix: '{uw}', config: file.intelligence, policies, tools })
 */
export function intelligenceFor(opts: {
  redis: RedisClient
  prefix: string
  config: IntelligenceConfig
  policies: Readonly<Record<string, { timeouts: Record<string, number> }>>
  tools: readonly { name: string; timeoutMs: number }[]
  now?: () => number
}): PatternIntelligence {
  const byName = new Map(opts.tools.map((t) => [t.name, t]))
  return new PatternIntelligence({
    store: new RedisPatternStore(opts.redis, opts.prefix, decayOf(opts.config), opts.now),
    config: opts.config,
    ...(opts.now ? { now: opts.now } : {}),
    configuredTimeout: (house, tool) => {
      const spec = byName.get(tool)
      const policy = opts.policies[house]
      if (!spec || !policy) return undefined
      return policy.timeouts[tool] ?? policy.timeouts.default ?? spec.timeoutMs
    },
  })
}
