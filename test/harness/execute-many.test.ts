import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { Harness, House, Mode } from '../../src/harness/index.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'
import { readText, testTool, writeText } from './test-tools.js'

const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 })
const prefixes: string[] = []
afterEach(async () => {
  await Promise.all(prefixes.splice(0).map((p) => cleanupPrefix(p)))
})
afterAll(() => redis.disconnect())

describe('executeMany', () => {
  it('keeps call order and never runs more than `concurrency` at once', async () => {
    let inFlight = 0
    let peak = 0
    const slow = testTool('slow', async (a) => {
      inFlight++
      peak = Math.max(peak, inFlight)
      await new Promise((r) => setTimeout(r, 5))
      inFlight--
      return { output: a.text ?? '' }
    })
    const h = new Harness({ house: House.ALLEGRO, tools: [slow] })
    const calls = Array.from({ length: 9 }, (_, i) => ({
      tool: 'slow',
      args: { text: String(i) },
      options: { requestedBy: 'b' },
    }))
    const results = await h.executeMany(
      [...calls, { tool: 'slow', args: { text: 1 }, options: { requestedBy: 'b' } }],
      {
        concurrency: 3,
      },
    )
    expect(results.map((r) => r.output)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', ''])
    expect(results.at(-1)?.error?.rule).toBe('bad-args')
    expect(peak).toBe(3)
  })
})

describe('read-before-write shared through Redis', () => {
  it('a read by one worker of the house lets another worker write; a change in between is refused', async () => {
    const prefix = uniquePrefix()
    prefixes.push(prefix)
    const path = join(mkdtempSync(join(tmpdir(), 'uw-rbw-')), 'f.txt')
    writeFileSync(path, 'v1')
    const opts = {
      house: House.EZRA,
      mode: Mode.SIMPLE,
      tools: [readText, writeText],
      redis,
      redisPrefix: prefix,
    }
    const reader = new Harness(opts)
    const writer = new Harness(opts)
    await reader.execute('read_text', { path }, { requestedBy: 'b' })
    expect((await writer.execute('write_text', { path, content: 'v2' }, { requestedBy: 'b' })).status).toBe(
      'success',
    )
    writeFileSync(path, 'edited by hand')
    const r = await reader.execute('write_text', { path, content: 'v3' }, { requestedBy: 'b' })
    expect(r.status).toBe('denied')
    expect(r.error?.reason).toContain('changed since read at')
  })
})
