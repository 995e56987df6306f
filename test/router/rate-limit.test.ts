import { Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { slashCommands } from '../../handlers/slash-commands.js'
import type { RateLimiter, RateRule } from '../../src/commands-core/command-spec.js'
import type { Effect } from '../../src/effects/effects.js'
import { MemoryRateLimiter, RedisRateLimiter } from '../../src/router/rate-limit.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'
import { commentEvent, CONFIG, world } from '../commands/helpers/world.js'

const rule: RateRule = { limit: 3, windowSeconds: 60 }
const prefix = uniquePrefix()
const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 })
afterEach(() => cleanupPrefix(prefix))
afterAll(() => redis.quit())

const T0 = Date.parse('2026-01-01T00:00:10Z')
const limiters: [string, (now: () => number) => RateLimiter][] = [
  ['memory', (now) => new MemoryRateLimiter(now)],
  ['redis', (now) => new RedisRateLimiter(redis, prefix, now)],
]

for (const [name, make] of limiters) {
  describe(`${name} rate limiter`, () => {
    it('allows up to the limit, then refuses with exactly one first refusal per window', async () => {
      let now = T0
      const limits = make(() => now)
      const decisions = []
      for (let i = 0; i < 6; i++) decisions.push(await limits.hit(`user:${name}`, `h${i}`, rule))
      expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false, false, false])
      expect(decisions.map((d) => d.firstRefusal)).toEqual([false, false, false, true, false, false])
      expect(decisions[0]?.resetSeconds).toBe(50)
      now = T0 + 60_000 // the next window
      expect(await limits.hit(`user:${name}`, 'h9', rule)).toMatchObject({ allowed: true })
    })

    it('counts a repeated hit id once and answers it the same', async () => {
      const limits = make(() => T0)
      for (let i = 0; i < 3; i++) expect((await limits.hit(`k:${name}`, 'same', rule)).allowed).toBe(true)
      await limits.hit(`k:${name}`, 'a', rule)
      await limits.hit(`k:${name}`, 'b', rule)
      const refused = await limits.hit(`k:${name}`, 'c', rule)
      expect(refused).toMatchObject({ allowed: false, firstRefusal: true })
      expect(await limits.hit(`k:${name}`, 'c', rule)).toMatchObject({ allowed: false, firstRefusal: true })
      expect(await limits.hit(`k:${name}`, 'a', rule)).toMatchObject({ allowed: true })
    })

    it('keeps keys apart', async () => {
      const limits = make(() => T0)
      for (let i = 0; i < 4; i++) await limits.hit(`a:${name}`, `h${i}`, rule)
      expect((await limits.hit(`b:${name}`, 'h0', rule)).allowed).toBe(true)
    })
  })
}

it('the redis limiter stores its window under the prefix with a TTL', async () => {
  const limits = new RedisRateLimiter(redis, prefix, () => T0)
  await limits.hit('user:ttl', 'x', rule)
  const keys = await redis.keys(`${prefix}:rl:*`)
  expect(keys).toHaveLength(1)
  const ttl = await redis.ttl(keys[0] as string)
  expect(ttl).toBeGreaterThan(0)
  expect(ttl).toBeLessThanOrEqual(61)
})

describe('slash commands over the limit', () => {
  const config = {
    ...CONFIG,
    rateLimit: { perUser: { limit: 2, windowSeconds: 60 }, perIssue: { limit: 100, windowSeconds: 60 } },
  }
  const keys = (effects: Effect[]) => effects.flatMap((e) => (e.type === 'comment' ? [e.key] : []))

  it('gets exactly one polite reply per window, not one per command', async () => {
    const w = world({ config })
    const first = commentEvent('/status\n/status\n/status\n/status')
    const a = await slashCommands.handle(first, w.ctx(first))
    expect(keys(a)).toEqual(['c:d-1:77:status_0', 'c:d-1:77:status_1', 'c:d-1:77:rate-limit'])
    const polite = a.find((e) => e.type === 'comment' && e.key.endsWith('rate-limit'))
    expect(polite?.type === 'comment' && polite.body).toContain('only notice')

    // A retry of the same delivery gives the same answer (same keys, so no duplicate reply).
    expect(keys(await slashCommands.handle(first, w.ctx(first)))).toEqual(keys(a))

    // Another comment in the same window: skipped silently.
    const second = commentEvent('/status\n/houses', { deliveryId: 'd-2', commentId: 78 })
    expect(await slashCommands.handle(second, w.ctx(second))).toEqual([])
  })

  it('unknown commands count too, and the cap notice is not sent while limited', async () => {
    const w = world({ config: { ...config, maxCommandsPerComment: 3 } })
    const e = commentEvent('/nope\n/nada\n/zilch\n/more')
    const effects = await slashCommands.handle(e, w.ctx(e))
    expect(keys(effects)).toEqual(['c:d-1:77:rate-limit', 'c:d-1:77:unknown'])
    const unknown = effects.find((x) => x.type === 'comment' && x.key.endsWith('unknown'))
    expect(unknown?.type === 'comment' && unknown.body).toContain('/nada')
    expect(unknown?.type === 'comment' && unknown.body).not.toContain('/zilch')
  })

  it('the per-issue limit applies across users', async () => {
    const w = world({
      config: {
        ...CONFIG,
        rateLimit: { perUser: { limit: 100, windowSeconds: 60 }, perIssue: { limit: 1, windowSeconds: 60 } },
      },
    })
    const a = commentEvent('/status')
    expect(keys(await slashCommands.handle(a, w.ctx(a)))).toEqual(['c:d-1:77:status_0'])
    const b = commentEvent('/status', { deliveryId: 'd-2', commentId: 78, author: { login: 'adam', id: 8 } })
    expect(keys(await slashCommands.handle(b, w.ctx(b)))).toEqual(['c:d-2:78:rate-limit'])
  })

  const perIssueTight = {
    ...CONFIG,
    rateLimit: { perUser: { limit: 100, windowSeconds: 60 }, perIssue: { limit: 3, windowSeconds: 60 } },
  }
  const spam: [string, string, string][] = [
    ['unknown commands', 'rita', '/nope\n/nada\n/zilch\n/more\n/again'],
    [
      'write commands a reader may not run',
      'rita',
      '/run git_status @bezalel\n/label kind/bug\n/assign @ezra\n/cancel j1',
    ],
    ['commands from a stranger', 'mallory', '/nope\n/run git_status\n/approve j1\n/zilch'],
  ]
  for (const [what, login, body] of spam) {
    it(`${what} do not use up the issue's limit: a writer's /run still runs`, async () => {
      const w = world({ config: perIssueTight })
      for (let n = 0; n < 3; n++) {
        const e = commentEvent(body, { deliveryId: `d-s${n}`, commentId: 100 + n, author: { login, id: 6 } })
        const effects = await slashCommands.handle(e, w.ctx(e))
        expect(keys(effects).some((k) => k.endsWith('rate-limit'))).toBe(false)
      }
      const run = commentEvent('/run git_status @bezalel', { deliveryId: 'd-w', commentId: 200 })
      const effects = await slashCommands.handle(run, w.ctx(run))
      expect(effects.map((e) => e.type)).toEqual(['react', 'comment', 'enqueueJob'])
    })
  }

  it("accepted commands still use up the issue's limit, whoever sends them", async () => {
    const w = world({ config: perIssueTight })
    const a = commentEvent('/status\n/houses\n/help')
    expect(keys(await slashCommands.handle(a, w.ctx(a)))).toEqual([
      'c:d-1:77:status_0',
      'c:d-1:77:houses_1',
      'c:d-1:77:help_2',
    ])
    const run = commentEvent('/run git_status @bezalel', { deliveryId: 'd-w', commentId: 200 })
    expect(keys(await slashCommands.handle(run, w.ctx(run)))).toEqual(['c:d-w:200:rate-limit'])
  })

  it('one user spamming unknown commands is still throttled by the per-user limit, with one reply', async () => {
    const w = world({ config })
    const e = commentEvent('/nope\n/nada\n/zilch', { author: { login: 'rita', id: 6 } })
    expect(keys(await slashCommands.handle(e, w.ctx(e)))).toEqual(['c:d-1:77:rate-limit', 'c:d-1:77:unknown'])
  })
})
