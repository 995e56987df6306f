import { Gauge, type Registry } from 'prom-client'
import type { HouseToolSummary } from './intelligence-view.js'

/** The label of a house or tool outside the known ones: label values stay bounded. */
export const OTHER = 'other'

/** What the gauges read at each scrape. */
export interface IntelligenceMetricsSource {
  overview(): Promise<HouseToolSummary[]>
}

/**
 * Registers `uw_house_tool_success_rate{house,tool}` (predicted success, posterior mean, of house ×
 * tool or `agent.<task>` with enough history) and `uw_house_tool_below_floor{house,tool}` (1 when
 * that rate is under `intelligence.successFloor`, else 0) on `registry`. Both are read from the
 * pattern store at scrape time (`collect`), so every process shows the same shared numbers. Houses
 * and tools outside `houses` / `tools` (and the agent task names) are reported as `other`, with
 * the worst rate among them.
 *
 * @example
 *   registerIntelligenceMetrics(registry, { source: intel, houses: ['ezra'], tools: ['git_status'] })
 */
export function registerIntelligenceMetrics(
  registry: Registry,
  opts: { source: IntelligenceMetricsSource; houses: readonly string[]; tools: readonly string[] },
): void {
  const houses = new Set(opts.houses)
  const tools = new Set([...opts.tools, 'agent.ask', 'agent.implement', 'agent.review'])
  let pending: Promise<Map<string, { house: string; tool: string; rate: number; below: number }>> | undefined
  // Both gauges collect in one scrape: read the store once for the two.
  const rows = () =>
    (pending ??= opts.source
      .overview()
      .then((all) => {
        const out = new Map<string, { house: string; tool: string; rate: number; below: number }>()
        for (const r of all) {
          if (!r.prediction.enough) continue
          const house = houses.has(r.house) ? r.house : OTHER
          const tool = tools.has(r.tool) ? r.tool : OTHER
          const key = `${house}\t${tool}`
          const prev = out.get(key)
          const rate = Math.min(prev?.rate ?? 1, r.prediction.successProbability)
          out.set(key, { house, tool, rate, below: Math.max(prev?.below ?? 0, r.belowFloor ? 1 : 0) })
        }
        return out
      })
      .finally(() => setTimeout(() => (pending = undefined), 0)))
  new Gauge({
    name: 'uw_house_tool_success_rate',
    help: 'Predicted success rate (posterior mean over decayed runs) per house and tool or agent task, with enough history.',
    labelNames: ['house', 'tool'] as const,
    registers: [registry],
    async collect() {
      this.reset()
      for (const r of (await rows()).values()) this.set({ house: r.house, tool: r.tool }, r.rate)
    },
  })
  new Gauge({
    name: 'uw_house_tool_below_floor',
    help: 'Whether a house is below intelligence.successFloor for a tool or agent task (1) or not (0).',
    labelNames: ['house', 'tool'] as const,
    registers: [registry],
    async collect() {
      this.reset()
      for (const r of (await rows()).values()) this.set({ house: r.house, tool: r.tool }, r.below)
    },
  })
}
