import { describe, expect, it } from 'vitest'
import { slashCommands } from '../../handlers/slash-commands.js'
import type { HouseInfo } from '../../src/commands-core/command-spec.js'
import type { Effect, JobRequest } from '../../src/effects/effects.js'
import {
  decayOf,
  DEFAULT_INTELLIGENCE,
  IntelligenceConfig,
  MemoryPatternStore,
  PatternIntelligence,
} from '../../src/intelligence/index.js'
import { commentEvent, HOUSES, world } from './helpers/world.js'

const NOW = Date.parse('2026-01-01T00:00:30Z')
const DAY = 86_400_000

/** The fixture's houses, with bezalel learning too (INTELLIGENT) and both archivists of a kind. */
const LEARNING: HouseInfo[] = HOUSES.map((h) =>
  h.name === 'bezalel' ? { ...h, defaultMode: 'INTELLIGENT', role: 'archivist' } : h,
)

/** A view over a memory store seeded with `runs` per house × tool: [ok, failed, ms]. */
async function intel(
  seeded: Record<string, [number, number, number]>,
  config = DEFAULT_INTELLIGENCE,
): Promise<PatternIntelligence> {
  const store = new MemoryPatternStore(decayOf(DEFAULT_INTELLIGENCE), () => NOW)
  for (const [key, [ok, failed, ms]] of Object.entries(seeded)) {
    const [house, tool] = key.split(' ') as [string, string]
    for (let i = 0; i < ok + failed; i++)
      await store.record(
        { house, tool, shape: 'path=path:file' },
        i < ok ? { ok: true, durationMs: ms } : { ok: false, durationMs: ms, kind: 'network' },
        NOW,
      )
  }
  return new PatternIntelligence({
    store,
    config,
    now: () => NOW,
    configuredTimeout: (_h, tool) => (tool.startsWith('agent.') ? undefined : 30_000),
  })
}

async function run(body: string, intelligence?: PatternIntelligence, houses = LEARNING): Promise<Effect[]> {
  const event = commentEvent(body)
  return slashCommands.handle(event, world({ houses, ...(intelligence ? { intelligence } : {}) }).ctx(event))
}
/** A comment's body, with inlineText's escapes taken out (so the numbers read plainly). */
const plain = (text: string) => text.replace(/\\(.)\u2060?/g, '$1')
const bodyOf = (effects: Effect[], key: string) =>
  plain(
    (effects.find((e) => e.type === 'comment' && e.key.includes(key)) as { body: string } | undefined)
      ?.body ?? '',
  )
const jobOf = (effects: Effect[]) =>
  (effects.find((e) => e.type === 'enqueueJob') as { job: JobRequest } | undefined)?.job

describe('/run without @house: routing by prediction', () => {
  it.each([
    {
      name: 'the house most likely to succeed, with the numbers and draws in the ack',
      seeded: { 'ezra git_status': [15, 15, 100], 'bezalel git_status': [29, 1, 2000] } as const,
      house: 'bezalel',
      reason:
        /house chosen: by prediction: bezalel 0\.94 \[0\.8\d, 0\.9\d\] from 30 runs, 2\.\d s, drew 0\.\d\d; before ezra 0\.50 \[0\.\d\d, 0\.\d\d\] from 30 runs, \d+ ms, drew 0\.\d\d/,
    },
    {
      name: 'a house with no history is tried first, not penalised',
      seeded: { 'ezra git_status': [30, 0, 100] } as const,
      house: 'bezalel',
      reason:
        /house chosen: by prediction: exploring bezalel \(no history yet: tried once before it is judged\); others: ezra 0\.97/,
    },
    {
      name: 'no history at all: the default house is explored first',
      seeded: {},
      house: 'ezra',
      reason: /house chosen: by prediction: exploring ezra \(no history yet/,
    },
  ])('$name', async ({ seeded, house, reason }) => {
    const effects = await run('/run git_status', await intel(seeded as never))
    const job = jobOf(effects)!
    expect(job.house).toBe(house)
    const ack = bodyOf(effects, 'ack')
    expect(ack).toMatch(reason)
    expect(job.houseReason).toMatch(/^by prediction: /)
  })

  it('a redelivered event draws the same house; other comments draw their own', async () => {
    // Near-equal thin records: the draw decides, seeded by the job id (delivery and comment).
    const i = await intel({ 'ezra git_status': [6, 2, 100], 'bezalel git_status': [5, 2, 100] })
    const routeOf = async (commentId: number) => {
      const event = { ...commentEvent('/run git_status'), commentId }
      const job = jobOf(
        await slashCommands.handle(event, world({ houses: LEARNING, intelligence: i }).ctx(event)),
      )!
      return { house: job.house, reason: job.houseReason }
    }
    const ids = Array.from({ length: 30 }, (_, k) => 1000 + k)
    const first = await Promise.all(ids.map(routeOf))
    expect(await Promise.all(ids.map(routeOf))).toEqual(first)
    expect(new Set(first.map((r) => r.house))).toEqual(new Set(['ezra', 'bezalel']))
    for (const r of first)
      expect(r.reason).toMatch(/^by prediction: (exploring )?(ezra 8|bezalel 7) of 10 runs, drew 0\.\d\d/)
  })

  it('leaves houses that do not learn out (timmy, SOVEREIGN, and allegro, SIMPLE, run http_get): the old rule applies', async () => {
    const effects = await run('/run http_get url=https://example.com', await intel({}))
    expect(jobOf(effects)).toMatchObject({
      house: 'timmy',
      houseReason: 'the first house that allows http_get',
    })
    expect(jobOf(effects)!.prediction).toBeUndefined()
  })

  it('a named house is not rerouted', async () => {
    const effects = await run('/run git_status @ezra', await intel({ 'bezalel git_status': [30, 0, 100] }))
    expect(jobOf(effects)).toMatchObject({ house: 'ezra', houseReason: 'named in the command' })
  })
})

describe('the ack of an INTELLIGENT job shows the prediction', () => {
  it('for the call’s argument shape, and the job keeps it for later edits', async () => {
    const effects = await run(
      '/run file_read path=README.md @ezra',
      await intel({ 'ezra file_read': [40, 1, 2100] }),
    )
    const job = jobOf(effects)!
    expect(job.prediction).toMatch(
      /^likely to succeed: 0\.9\d \[0\.\d\d, 0\.\d\d\] from 41 runs, usually 2\.\d s \(p90 2\.\d s\)$/,
    )
    expect(bodyOf(effects, 'ack')).toContain(' · prediction: likely to succeed: 0.9')
  })

  it('says "not enough history" when there is little', async () => {
    const effects = await run('/run git_status @ezra', await intel({ 'ezra git_status': [3, 0, 100] }))
    expect(jobOf(effects)!.prediction).toBe('not enough history: 3 runs (10 needed)')
  })

  it('shows none for a SIMPLE or SOVEREIGN job', async () => {
    const i = await intel({ 'allegro http_get': [30, 0, 100] })
    expect(jobOf(await run('/run http_get url=https://x.example @allegro', i))!.prediction).toBeUndefined()
    expect(bodyOf(await run('/run git_status @timmy', i), 'ack')).not.toContain('prediction:')
  })
})

describe('agent tasks without @house', () => {
  it('choose among the houses of the role by prediction, and the ack says the task’s prediction', async () => {
    const effects = await run(
      '/ask where is the retry rule?',
      await intel({ 'ezra agent.ask': [5, 10, 60_000], 'bezalel agent.ask': [14, 1, 30_000] }),
    )
    const job = jobOf(effects)!
    expect(job.house).toBe('bezalel')
    expect(job.houseReason).toMatch(/^by role: archivist answers questions; by prediction: bezalel 0\.88/)
    expect(job.prediction).toMatch(/^likely to succeed: 0\.88 .* from 15 runs, usually 3\d s/)
  })
})

describe('/predict', () => {
  it('shows each house that may run the tool, what is adapted, and where /run would go', async () => {
    const config = IntelligenceConfig.parse({ successFloor: 0.6 })
    const effects = await run(
      '/predict git_status',
      await intel({ 'ezra git_status': [10, 20, 100], 'bezalel git_status': [29, 1, 2000] }, config),
    )
    const body = bodyOf(effects, 'predict')
    expect(body).toContain(
      '| House | Mode | Prediction | Failures | Adapted | Floor | Velocity (7-day rate) |',
    )
    expect(body).toMatch(
      /\| \*\*ezra\*\* \| INTELLIGENT \| likely to fail: success 0\.34 .* from 30 runs.* \| network 20 \| timeout 1 s: 1\.5 × p90 .* \| ⚠️ below the floor 0\.6 \|/,
    )
    expect(body).toMatch(/\| \*\*bezalel\*\* \| INTELLIGENT \| likely to succeed: 0\.94/)
    expect(body).toMatch(
      /\| \*\*timmy\*\* \| SOVEREIGN \| not enough history: 0 runs \(10 needed\) \| none \| none \(not INTELLIGENT\) \| ok \|/,
    )
    expect(body).toContain('Without `@house` it would go to **bezalel**: by prediction: bezalel 0.94')
  })

  it('with records that do not settle it, gives the share of jobs each house would draw', async () => {
    const effects = await run(
      '/predict git_status',
      await intel({ 'ezra git_status': [6, 2, 100], 'bezalel git_status': [5, 2, 100] }),
    )
    expect(bodyOf(effects, 'predict')).toMatch(
      /Without `@house` each job draws its house from these predictions \(Thompson sampling, fixed by the job id\): \*\*(ezra|bezalel)\*\* \d\d%, \*\*(ezra|bezalel)\*\* \d\d% of jobs\./,
    )
  })

  it('says when the change detector restarted a record, in /predict and in the ack', async () => {
    const store = new MemoryPatternStore(decayOf(DEFAULT_INTELLIGENCE), () => NOW)
    const key = { house: 'ezra', tool: 'git_status' }
    // A week at 9 in 10 (16 runs a day), then a day in which most runs fail.
    for (let i = 0; i < 8 * 16; i++) {
      const ok = i < 7 * 16 ? i % 10 !== 0 : i % 3 === 0
      await store.record(
        key,
        ok ? { ok, durationMs: 80 } : { ok, durationMs: 80, kind: 'tool' },
        NOW - DAY + (i - 7 * 16) * 90 * 60_000,
      )
    }
    const intelligence = new PatternIntelligence({ store, config: DEFAULT_INTELLIGENCE, now: () => NOW })
    const line = /recent change: last [\d.]+ runs 0\.[0-4]\d vs 0\.[89]\d before/
    expect(bodyOf(await run('/predict git_status @ezra', intelligence), 'predict')).toMatch(line)
    expect(jobOf(await run('/run git_status @ezra', intelligence))!.prediction).toMatch(line)
    // A steady record says nothing of the kind.
    const steady = await intel({ 'ezra git_status': [40, 4, 80] })
    expect(bodyOf(await run('/predict git_status @ezra', steady), 'predict')).not.toContain('recent change')
  })

  it('narrows to an argument shape and a house, never showing argument values it derived', async () => {
    const effects = await run('/predict file_read path=docs/secret-plan.md @ezra', await intel({}))
    const body = bodyOf(effects, 'predict')
    expect(body).toContain('with arguments shaped `path=path:file`')
    // The value appears only in the quoted command line, not in the answer.
    expect(body.split('\n').filter((l) => l.includes('secret-plan'))).toHaveLength(1)
    expect(body).not.toContain('Without `@house`')
  })

  it.each([
    ['/predict', /name a tool or a task/],
    ['/predict git_stat', /There is no tool or task `git_stat`\. Did you mean `git_status`/],
    ['/predict http_get @ezra', /House \*\*ezra\*\* does not run `http_get`/],
    ['/predict git_status @ezrra', /There is no house `ezrra`\. Did you mean `@ezra`/],
  ])('%s: a reply that says what is wrong', async (line, text) => {
    const effects = await run(line, await intel({}))
    expect(effects.filter((e) => e.type === 'enqueueJob')).toEqual([])
    const replies = effects.filter((e) => e.type === 'comment') as { body: string }[]
    expect(replies.map((r) => plain(r.body)).join('\n')).toMatch(text)
  })

  it('says predictions are not available on a bot without a pattern store', async () => {
    expect(bodyOf(await run('/predict git_status'), 'predict')).toContain('Predictions are not available')
  })
})

describe('/houses', () => {
  it('lists what the houses learned, flags a house below the floor, and shows the learning velocity', async () => {
    const store = new MemoryPatternStore(decayOf(DEFAULT_INTELLIGENCE), () => NOW)
    // ezra: a week ago 9 of 10, this week 2 of 12: falling, and below the floor.
    for (let i = 0; i < 10; i++)
      await store.record({ house: 'ezra', tool: 'git_status' }, { ok: i < 9, durationMs: 50 }, NOW - 8 * DAY)
    for (let i = 0; i < 12; i++)
      await store.record({ house: 'ezra', tool: 'git_status' }, { ok: i < 2, durationMs: 50 }, NOW - DAY)
    for (let i = 0; i < 20; i++)
      await store.record({ house: 'bezalel', tool: 'git_log' }, { ok: true, durationMs: 500 }, NOW)
    const view = new PatternIntelligence({ store, config: DEFAULT_INTELLIGENCE, now: () => NOW })
    const body = bodyOf(await run('/houses', view), 'houses')
    expect(body).toMatch(
      /\| \*\*ezra\*\* \| `git_status` \| 0\.\d\d \[0\.\d\d, 0\.\d\d\] \| 1\d\.\d \| 50 ms \| ⚠️ below 0\.5 \| -0\.73\/week \(0\.90 → 0\.17\) \|/,
    )
    expect(body).toMatch(/\| \*\*bezalel\*\* \| `git_log` \| 0\.95 .* \| 20 \| [45]\d\d ms \| ok \| n\/a \|/)
    // The flagged row comes first.
    expect(body.indexOf('**ezra** | `git_status`')).toBeLessThan(body.indexOf('**bezalel** | `git_log`'))
  })
})
