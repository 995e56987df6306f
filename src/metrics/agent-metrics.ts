import { Counter, Gauge, type Registry } from 'prom-client'

/** A house agent's daily token budget (workers/token-budget), for the budget gauges. */
export interface BudgetSource {
  house: string
  daily: number
  /** Tokens left today (0 or less: spent), from Redis. */
  left(): Promise<number>
}

/** Agent token metrics: `tokens(house, n)` counts tokens as a run reports them. */
export interface AgentMetrics {
  tokens(house: string, n: number): void
}

/**
 * Registers `uw_agent_tokens_total{house}` (tokens the agents of this process used),
 * `uw_agent_budget_tokens{house}` (the daily budget) and `uw_agent_budget_tokens_left{house}`
 * (what is left of today's budget, shared by every worker of the house, read at scrape time).
 *
 * @example
 *   const agents = registerAgentMetrics(registry, [{ house: 'ezra', daily: 1e6, left: () => budget.left() }])
 *   agents.tokens('ezra', 1200)
 */
export function registerAgentMetrics(registry: Registry, budgets: readonly BudgetSource[]): AgentMetrics {
  const houses = new Set(budgets.map((b) => b.house))
  const tokens = new Counter({
    name: 'uw_agent_tokens_total',
    help: 'Tokens the agents run by this process used, by house.',
    labelNames: ['house'] as const,
    registers: [registry],
  })
  new Gauge({
    name: 'uw_agent_budget_tokens',
    help: "Each agent house's daily token budget.",
    labelNames: ['house'] as const,
    registers: [registry],
    collect() {
      for (const b of budgets) this.set({ house: b.house }, b.daily)
    },
  })
  new Gauge({
    name: 'uw_agent_budget_tokens_left',
    help: "Tokens left of each agent house's budget today (UTC), read at scrape time.",
    labelNames: ['house'] as const,
    registers: [registry],
    async collect() {
      const left = await Promise.allSettled(budgets.map((b) => b.left()))
      this.reset()
      left.forEach((l, i) => {
        if (l.status === 'fulfilled') this.set({ house: budgets[i]!.house }, Math.max(0, l.value))
      })
    },
  })
  return {
    tokens(house, n) {
      if (houses.has(house) && n > 0) tokens.inc({ house }, n)
    },
  }
}
