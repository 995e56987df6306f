// The houses page over the real Redis: heartbeats, queue depths, job outcomes, predictions,
// budgets and circuits as the loop writes them; the agent's key never shown.
import { Queue } from 'bullmq'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FileConfig } from '../../src/config/file-config.js'
import { Secret } from '../../src/config/secret.js'
import type { Config } from '../../src/config/index.js'
import { dashboardFleet } from '../../src/daemon/dashboard-fleet.js'
import { successRate } from '../../src/dashboard/house-overview.js'
import { decayOf, IntelligenceConfig } from '../../src/intelligence/intelligence-config.js'
import { RedisPatternStore } from '../../src/intelligence/pattern-store.js'
import { RedisJobStore } from '../../src/jobs/job-store.js'
import { QueueDepths } from '../../src/jobs/queue-depths.js'
import type { JobState } from '../../src/jobs/jobs.js'
import { houseQueueName } from '../../src/queue/queue-names.js'
import { beat } from '../../src/workers/heartbeat.js'
import { TokenBudget } from '../../src/workers/token-budget.js'
import { jobRecord } from '../helpers/job-records.js'
import { Browser, dashboardWorld, VIEWER_TOKEN, type DashboardWorld } from './dashboard-world.js'

const AGENT_KEY = 'sk-agent-key-that-must-never-show-0123'

let world: DashboardWorld
let depths: QueueDepths
let queue: Queue
let browser: Browser

/** The text of one house's section, tags removed. */
async function houseText(house: string): Promise<string> {
  const html = await (await browser.request('/dashboard/houses')).text()
  const section = new RegExp(`<section aria-labelledby="house-${house}">([\\s\\S]*?)</section>`).exec(html)
  return (section?.[1] ?? '').replace(/<[^>]+>/g, '').replace(/\s+/g, ' ')
}

beforeEach(async () => {
  const file = FileConfig.parse({
    houses: {
      bezalel: {
        agent: {
          backend: 'openai',
          endpoint: 'http://model.local/v1',
          key: new Secret(AGENT_KEY),
          model: 'qwen-coder',
          limits: { dailyTokenBudget: 10_000 },
        },
      },
    },
  })
  world = await dashboardWorld()
  depths = new QueueDepths({
    connection: world.redis,
    prefix: world.prefix,
    queues: [houseQueueName('bezalel')],
    cacheMs: 0,
  })
  // The daemon's wiring (the readers /houses and the metrics use); pages read their deps at each request.
  world.deps.fleet = dashboardFleet({
    config: { file } as Config,
    connection: world.redis,
    prefix: world.prefix,
    queues: depths,
  })
  queue = new Queue(houseQueueName('bezalel'), { connection: world.redis, prefix: world.prefix })
  browser = new Browser(world)
  await browser.logInWithToken(VIEWER_TOKEN)
})
afterEach(async () => {
  await queue.close()
  await depths.close()
  await world.close()
})

describe('the houses page', () => {
  it('shows every configured house with its policy and agent, never its key', async () => {
    const res = await browser.request('/dashboard/houses')
    expect(res.status).toBe(200)
    const html = await res.text()
    for (const h of ['timmy', 'ezra', 'bezalel', 'allegro']) expect(html).toContain(`id="house-${h}"`)
    const bezalel = await houseText('bezalel')
    expect(bezalel).toContain('openai qwen-coder')
    expect(bezalel).toContain('mode INTELLIGENT, approval never')
    expect(await houseText('timmy')).toContain('none (tools only)')
    expect(html).not.toContain(AGENT_KEY)
    expect(html).not.toContain('model.local')
  })

  it('shows live workers from heartbeats, and when a house has none', async () => {
    await beat(world.redis, world.prefix, 'bezalel', 'host-1:1', 60_000)
    await beat(world.redis, world.prefix, 'bezalel', 'host-2:1', 60_000)
    expect(await houseText('bezalel')).toContain('2 workers alive')
    expect(await houseText('ezra')).toContain('no live worker')
  })

  it('shows the house queue depth from BullMQ', async () => {
    await queue.add('git_status', {}, { jobId: 'q1' })
    await queue.add('git_status', {}, { jobId: 'q2', delay: 60_000 })
    expect(await houseText('bezalel')).toContain('1 waiting, 0 active, 1 delayed, 0 failed')
  })

  it('shows the success rate over the finished jobs', async () => {
    const store = new RedisJobStore(world.redis as never, world.prefix)
    // A cancel and a running job do not count.
    const states: JobState[] = ['failure', 'timeout', 'success', 'cancelled', 'success', 'running']
    for (const [i, state] of states.entries())
      await store.create(jobRecord({ id: `b${i}`, house: 'bezalel', state, ageMs: 1000 - i * 10 }))
    expect(await houseText('bezalel')).toContain('50% of the last 4 finished jobs')
    expect(await houseText('ezra')).toContain('no finished jobs yet')
  })

  it('shows predictions and learning velocity from the pattern store, tokens used today and open circuits', async () => {
    const patterns = new RedisPatternStore(
      world.redis,
      world.prefix,
      decayOf(IntelligenceConfig.parse({ halfLifeHours: 7 * 24 })),
    )
    const key = { house: 'bezalel', tool: 'git_status' }
    const weekAgo = Date.now() - 9 * 86_400_000
    // A week earlier: 1 of 2; this week: 2 of 2.
    await patterns.record(key, { ok: true, durationMs: 40 }, weekAgo)
    await patterns.record(key, { ok: false, durationMs: 40, kind: 'tool' }, weekAgo)
    await patterns.record(key, { ok: true, durationMs: 40 })
    await patterns.record(key, { ok: true, durationMs: 40 })
    await new TokenBudget(world.redis, world.prefix, 'bezalel', 10_000).spend(2_500)
    await world.redis.hset(`${world.prefix}:breaker:bezalel:http_get`, 'state', 'open')
    const html = await (await browser.request('/dashboard/houses')).text()
    expect(html).toMatch(/<caption>Predictions per tool or task of bezalel<\/caption>/)
    const text = await houseText('bezalel')
    expect(text).toMatch(/git_status\s*\d+%/)
    expect(text).toContain('+0.50/week (0.50 → 1.00)')
    expect(text).toContain('learning velocity: +50 points per week (7-day success 50% → 100%)')
    expect(text).toContain('2,500 of 10,000 tokens (25%)')
    expect(text).toMatch(/http_get open; \d+ closed/)
    const ezra = await houseText('ezra')
    expect(ezra).toMatch(/all \d+ closed/)
    expect(ezra).toContain('No runs learned yet')
    expect(ezra).toContain('learning velocity: not yet')
  })
})

describe('successRate', () => {
  it.each<[JobState[], { judged: number; rate: number | undefined }]>([
    [[], { judged: 0, rate: undefined }],
    [['success', 'failure'], { judged: 2, rate: 0.5 }],
    [['denied', 'cancelled', 'queued', 'running', 'awaiting_approval'], { judged: 0, rate: undefined }],
    [['unverified', 'success', 'timeout', 'success', 'success'], { judged: 5, rate: 0.6 }],
  ])('%j', (states, expected) => {
    expect(successRate(states)).toEqual(expected)
  })
})
