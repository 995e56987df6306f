// The houses page over the real Redis: heartbeats, queue depths, job outcomes, predictions,
// budgets and circuits as the loop writes them; the agent's key never shown.
import { Queue } from 'bullmq'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { successTrend } from '../../src/dashboard/house-overview.js'
import { resolveHouses } from '../../src/houses/house-policy.js'
import { RedisPatternStore } from '../../src/intelligence/pattern-store.js'
import { RedisJobStore } from '../../src/jobs/job-store.js'
import { QueueDepths } from '../../src/jobs/queue-depths.js'
import type { JobState } from '../../src/jobs/jobs.js'
import { houseQueueName } from '../../src/queue/queue-names.js'
import { builtinTools } from '../../src/tools/index.js'
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
  const policies = resolveHouses(
    {
      bezalel: {
        agent: {
          backend: 'openai',
          endpoint: 'http://model.local/v1',
          key: AGENT_KEY,
          model: 'qwen-coder',
          limits: { dailyTokenBudget: 10_000 },
        },
      },
    } as never,
    {},
  )
  world = await dashboardWorld()
  depths = new QueueDepths({
    connection: world.redis,
    prefix: world.prefix,
    queues: [houseQueueName('bezalel')],
    cacheMs: 0,
  })
  // Pages read their deps at each request.
  world.deps.fleet = { policies, tools: builtinTools, queues: depths }
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

  it('shows the success rate over finished jobs and its trend', async () => {
    const store = new RedisJobStore(world.redis as never, world.prefix)
    // Oldest first: two failures, then two successes; a cancel and a running job do not count.
    const states: JobState[] = ['failure', 'timeout', 'success', 'cancelled', 'success', 'running']
    for (const [i, state] of states.entries())
      await store.create(jobRecord({ id: `b${i}`, house: 'bezalel', state, ageMs: 1000 - i * 10 }))
    const text = await houseText('bezalel')
    expect(text).toContain('50% of the last 4 finished jobs')
    expect(text).toContain('learning velocity +100 points')
    expect(await houseText('ezra')).toContain('no finished jobs yet')
  })

  it('shows predictions per tool from the pattern store, budget used today and open circuits', async () => {
    const patterns = new RedisPatternStore(world.redis, world.prefix)
    for (const ok of [true, true, true, false])
      await patterns.record('bezalel', 'git_status', { ok, durationMs: 40 })
    await new TokenBudget(world.redis, world.prefix, 'bezalel', 10_000).spend(2_500)
    await world.redis.hset(`${world.prefix}:breaker:bezalel:http_get`, 'state', 'open')
    const html = await (await browser.request('/dashboard/houses')).text()
    expect(html).toMatch(/<caption>Predictions per tool or task of bezalel<\/caption>/)
    const text = await houseText('bezalel')
    // Beta(1 + 3, 1 + 1): 4 / 6.
    expect(text).toMatch(/git_status\s*67%/)
    expect(text).toContain('2,500 of 10,000 tokens (25%)')
    expect(text).toMatch(/http_get open; \d+ closed/)
    expect(await houseText('ezra')).toMatch(/all \d+ closed/)
    expect(await houseText('ezra')).toContain('No outcomes learned yet')
  })
})

describe('successTrend', () => {
  it.each<[JobState[], { judged: number; rate: number | undefined; velocity: number | undefined }]>([
    [[], { judged: 0, rate: undefined, velocity: undefined }],
    [['success', 'failure'], { judged: 2, rate: 0.5, velocity: undefined }],
    [['success', 'success', 'failure', 'failure'], { judged: 4, rate: 0.5, velocity: 1 }],
    [['failure', 'failure', 'success', 'success'], { judged: 4, rate: 0.5, velocity: -1 }],
    [['denied', 'cancelled', 'queued', 'running'], { judged: 0, rate: undefined, velocity: undefined }],
    [
      ['unverified', 'success', 'timeout', 'success', 'success'],
      { judged: 5, rate: 0.6, velocity: 0.5 - 2 / 3 },
    ],
  ])('%j', (states, expected) => {
    const got = successTrend(states)
    expect(got.judged).toBe(expected.judged)
    expect(got.rate).toBe(expected.rate)
    if (expected.velocity === undefined) expect(got.velocity).toBeUndefined()
    else expect(got.velocity).toBeCloseTo(expected.velocity)
  })
})
