import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { decayOf, DEFAULT_INTELLIGENCE, RedisPatternStore } from '../../src/intelligence/index.js'
import { testChildEnv } from '../helpers/leftovers.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

const root = resolve(import.meta.dirname, '../..')
const tsx = join(root, 'node_modules/.bin/tsx')
const entry = join(root, 'src/cli/run-main.ts')
const DAY = 86_400_000

describe('uni-wizard predict and the learning section of telemetry --status', () => {
  const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 })
  const prefixes: string[] = []
  const dirs: string[] = []
  afterAll(async () => {
    for (const p of prefixes) await cleanupPrefix(p)
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
    redis.disconnect()
  })

  async function setup() {
    const prefix = uniquePrefix()
    prefixes.push(prefix)
    const data = mkdtempSync(join(tmpdir(), 'uw-pcli-'))
    dirs.push(data)
    const store = new RedisPatternStore(redis, prefix, decayOf(DEFAULT_INTELLIGENCE))
    const now = Date.now()
    // bezalel deploys: last week 10 of 10, this week 3 of 12 (kind network), 2 s each.
    for (let i = 0; i < 10; i++)
      await store.record(
        { house: 'bezalel', tool: 'system_info' },
        { ok: true, durationMs: 2000 },
        now - 8 * DAY,
      )
    for (let i = 0; i < 12; i++)
      await store.record(
        { house: 'bezalel', tool: 'system_info' },
        i < 3 ? { ok: true, durationMs: 2000 } : { ok: false, durationMs: 2000, kind: 'network' },
        now - DAY,
      )
    const env = testChildEnv({
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      REDIS_URL: testRedisUrl(),
      UW_PREFIX: prefix,
      UW_DATA_DIR: data,
    })
    return { env }
  }

  function once(args: string[], env: NodeJS.ProcessEnv) {
    return new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      execFile(tsx, [entry, ...args], { env, cwd: env.UW_DATA_DIR }, (err, stdout, stderr) =>
        done({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
      )
    })
  }

  it('prints the prediction, adaptations, floor and velocity of a house, and the same as --json', async () => {
    const { env } = await setup()
    const text = await once(['predict', '--tool', 'system_info', '--house', 'bezalel'], env)
    expect(text.stderr).toBe('')
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(
      /^bezalel · system_info\n {2}prediction: likely to fail: success 0\.\d\d \[0\.\d\d, 0\.\d\d\] from 1\d\.\d runs, usually 2\.\d s \(p90 2\.\d s\)\n/,
    )
    expect(text.stdout).toContain('  failures: network')
    expect(text.stdout).toMatch(
      / {2}timeout: timeout [\d.]+ s: 1\.5 × p90 2\.\d s of 1\d\.\d runs, within \[1 s, /,
    )
    expect(text.stdout).toContain('  floor: BELOW 0.5')
    expect(text.stdout).toContain('  velocity: -0.75/week (1.00 → 0.25)')
    const json = await once(['predict', '--tool', 'system_info', '--house', 'bezalel', '--json'], env)
    const parsed = JSON.parse(json.stdout) as {
      tool: string
      houses: { house: string; belowFloor: boolean }[]
    }
    expect(parsed.tool).toBe('system_info')
    expect(parsed.houses).toMatchObject([{ house: 'bezalel', belowFloor: true }])
  })

  it('lists every house whose policy allows the tool, when no house is given', async () => {
    const { env } = await setup()
    const r = await once(['predict', '--tool', 'git_push'], env)
    expect(r.code).toBe(0)
    // allegro is read-only: it may not push.
    expect(r.stdout.split('\n').filter((l) => /^\w+ · git_push$/.test(l))).toEqual([
      'timmy · git_push',
      'ezra · git_push',
      'bezalel · git_push',
    ])
    expect(r.stdout).toContain('prediction: not enough history: 0 runs (10 needed)')
  })

  it.each([
    [['predict'], /--tool is required/],
    [['predict', '--tool', 'deploy_everything'], /unknown tool or task "deploy_everything"/],
    [['predict', '--tool', 'git_status', '--house', 'ezar'], /unknown house "ezar"/],
    [['predict', '--tool', 'git_status', '--arg', 'novalue'], /--arg "novalue": expected key=value/],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const { env } = await setup()
    const r = await once(args, env)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(message)
  })

  it('telemetry --status shows the learning velocity per house and tool', async () => {
    const { env } = await setup()
    const r = await once(['telemetry', '--status'], env)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(
      /learning \(success per house and tool, change of the 7-day rate per week\):\n {2}bezalel system_info: 0\.\d\d from 1\d\.\d runs BELOW FLOOR, velocity -0\.75\/week \(1\.00 → 0\.25\)/,
    )
    const json = JSON.parse((await once(['telemetry', '--status', '--json'], env)).stdout) as {
      learning: unknown[]
    }
    expect(json.learning).toMatchObject([
      { house: 'bezalel', tool: 'system_info', belowFloor: true, changePerWeek: -0.75 },
    ])
  })
})
