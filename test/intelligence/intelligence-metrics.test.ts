import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { registerIntelligenceMetrics } from '../../src/intelligence/intelligence-metrics.js'
import {
  decayOf,
  DEFAULT_INTELLIGENCE,
  IntelligenceConfig,
  MemoryPatternStore,
  PatternIntelligence,
} from '../../src/intelligence/index.js'

const NOW = Date.parse('2026-03-02T12:00:00Z')

async function scrape(seed: [house: string, tool: string, ok: number, failed: number][]): Promise<string> {
  const store = new MemoryPatternStore(decayOf(DEFAULT_INTELLIGENCE), () => NOW)
  for (const [house, tool, ok, failed] of seed)
    for (let i = 0; i < ok + failed; i++)
      await store.record(
        { house, tool },
        { ok: i < ok, durationMs: 10, ...(i < ok ? {} : { kind: 'tool' }) },
        NOW,
      )
  const registry = new Registry()
  registerIntelligenceMetrics(registry, {
    source: new PatternIntelligence({
      store,
      config: IntelligenceConfig.parse({ successFloor: 0.6 }),
      now: () => NOW,
    }),
    houses: ['ezra', 'bezalel'],
    tools: ['git_status', 'deploy'],
  })
  return registry.metrics()
}

describe('intelligence metrics', () => {
  it('export the predicted success rate and the below-floor flag per house and tool, read at scrape time', async () => {
    const text = await scrape([
      ['ezra', 'git_status', 28, 2],
      ['bezalel', 'deploy', 5, 25],
      ['ezra', 'agent.ask', 20, 0],
      ['ezra', 'deploy', 1, 1], // not enough history: not exported
    ])
    expect(text).toContain('uw_house_tool_success_rate{house="ezra",tool="git_status"} 0.90625')
    expect(text).toContain('uw_house_tool_below_floor{house="ezra",tool="git_status"} 0')
    expect(text).toMatch(/uw_house_tool_success_rate\{house="bezalel",tool="deploy"\} 0\.18/)
    expect(text).toContain('uw_house_tool_below_floor{house="bezalel",tool="deploy"} 1')
    expect(text).toContain('uw_house_tool_below_floor{house="ezra",tool="agent.ask"} 0')
    expect(text).not.toContain('house="ezra",tool="deploy"')
  })

  it('keep label values bounded: unknown houses and tools are "other", with the worst rate among them', async () => {
    const text = await scrape([
      ['ezra', 'custom_a', 30, 0],
      ['ezra', 'custom_b', 3, 27],
      ['stranger', 'git_status', 30, 0],
    ])
    expect(text).toMatch(/uw_house_tool_success_rate\{house="ezra",tool="other"\} 0\.12/)
    expect(text).toContain('uw_house_tool_below_floor{house="ezra",tool="other"} 1')
    expect(text).toContain('uw_house_tool_below_floor{house="other",tool="git_status"} 0')
    expect(text).not.toMatch(/custom_|stranger/)
  })
})
