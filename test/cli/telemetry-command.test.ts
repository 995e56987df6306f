import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { Secret } from '../../src/config/secret.js'
import { startRedisServer } from '../../src/queue/redis-server.js'
import {
  httpSink,
  RedisTelemetry,
  TelemetryForwarder,
  TelemetrySinkConfig,
  telemetryStreamKey,
  type TelemetryEvent,
} from '../../src/telemetry/index.js'
import { dedupeById, startSinkDouble } from '../../src/telemetry/double/sink-double.js'
import { testChildEnv } from '../helpers/leftovers.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

const root = resolve(import.meta.dirname, '../..')
const tsx = join(root, 'node_modules/.bin/tsx')
const entry = join(root, 'src/cli/run-main.ts')
const log = pino({ level: 'silent' })

const queued = (jobId: string, house = 'ezra'): TelemetryEvent => ({
  type: 'job.queued',
  jobId,
  run: 1,
  house,
  tool: 'git_status',
  mode: 'SIMPLE',
  requester: 'alice',
})
const finished = (jobId: string, house = 'ezra'): TelemetryEvent => ({
  type: 'job.finished',
  jobId,
  run: 1,
  house,
  tool: 'git_status',
  state: 'success',
  durationMs: 412,
})

describe('uni-wizard telemetry', () => {
  const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 })
  const prefixes: string[] = []
  const dirs: string[] = []
  const children: ChildProcess[] = []
  const setup = () => {
    const prefix = uniquePrefix()
    prefixes.push(prefix)
    const data = mkdtempSync(join(tmpdir(), 'uw-tcli-'))
    dirs.push(data)
    const telemetry = new RedisTelemetry({
      redis,
      prefix,
      retention: { maxEvents: 100_000, maxAgeHours: 24, onceTtlSeconds: 3600 },
      redact: (s) => s,
      log,
    })
    const env = testChildEnv({
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      REDIS_URL: testRedisUrl(),
      UW_PREFIX: prefix,
      UW_DATA_DIR: data,
    })
    return { prefix, telemetry, env, data }
  }
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.pid) killGroup(c.pid, 'SIGKILL')
    for (const p of prefixes) await cleanupPrefix(p)
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
    redis.disconnect()
  })

  function killGroup(pid: number, signal: NodeJS.Signals): void {
    try {
      process.kill(-pid, signal)
    } catch {
      // already gone
    }
  }

  function once(args: string[], env: NodeJS.ProcessEnv) {
    return new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      execFile(tsx, [entry, 'telemetry', ...args], { env, cwd: env.UW_DATA_DIR }, (err, stdout, stderr) =>
        done({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
      )
    })
  }

  /** Starts `telemetry tail` in its own process group; resolves once it follows the stream. */
  async function startTail(args: string[], env: NodeJS.ProcessEnv) {
    const child = spawn(tsx, [entry, 'telemetry', 'tail', ...args], {
      env,
      cwd: env.UW_DATA_DIR,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    children.push(child)
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()))
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
    await waitFor(
      () => stderr.includes('following '),
      () => `tail did not start: ${stderr}`,
    )
    return {
      lines: () => stdout.split('\n').filter(Boolean),
      stderr: () => stderr,
      async stop(signal: NodeJS.Signals) {
        // To the wrapper (tsx), which relays it to the command once, as a terminal or systemd
        // would signal the main process: signalling the whole group made the relay a second
        // signal, racing the command's own clean exit. The group is killed after, as cleanup.
        child.kill(signal)
        const code = await exited
        killGroup(child.pid as number, 'SIGKILL')
        return code
      },
    }
  }

  it('tail --json follows events appended by the sink, filtered by house, job and type, and exits 0 on SIGTERM', async () => {
    const { telemetry, env } = setup()
    await telemetry.emit(queued('before'))
    const [all, ezraFinished, byJob] = await Promise.all([
      startTail(['--json'], env),
      startTail(['--json', '--house', 'ezra', '--type', 'job.finished'], env),
      startTail(['--json', '--job', 'j2'], env),
    ])
    await telemetry.emit(queued('j1'))
    await telemetry.emit(finished('j1'))
    await telemetry.emit(queued('j2', 'bezalel'))
    await telemetry.emit(finished('j2', 'bezalel'))
    await telemetry.emit({ type: 'house.heartbeat_gained', house: 'ezra', worker: 'h:1' })
    await waitFor(
      () => all.lines().length >= 5,
      () => `all: ${all.lines().join('\n')}`,
    )
    await waitFor(
      () => byJob.lines().length >= 2,
      () => `byJob: ${byJob.lines().join('\n')}`,
    )
    await waitFor(
      () => ezraFinished.lines().length >= 1,
      () => 'ezraFinished: nothing',
    )
    // A last event every tail sees (or not) after the ones above were printed.
    await telemetry.emit(finished('j3'))
    await waitFor(
      () => all.lines().length >= 6,
      () => `all: ${all.lines().join('\n')}`,
    )
    await new Promise((r) => setTimeout(r, 200))

    const parse = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>)
    const events = parse(all.lines())
    // Starts after the newest event: "before" is not replayed.
    expect(events.map((e) => [e.type, e.jobId ?? e.house])).toEqual([
      ['job.queued', 'j1'],
      ['job.finished', 'j1'],
      ['job.queued', 'j2'],
      ['job.finished', 'j2'],
      ['house.heartbeat_gained', 'ezra'],
      ['job.finished', 'j3'],
    ])
    expect(events[1]).toMatchObject({ ...finished('j1'), id: expect.stringMatching(/^\d+-\d+$/) })
    expect(parse(ezraFinished.lines()).map((e) => e.jobId)).toEqual(['j1', 'j3'])
    expect(parse(byJob.lines()).map((e) => [e.type, e.house])).toEqual([
      ['job.queued', 'bezalel'],
      ['job.finished', 'bezalel'],
    ])

    const codes = await Promise.all([all.stop('SIGTERM'), ezraFinished.stop('SIGINT'), byJob.stop('SIGTERM')])
    expect(codes).toEqual([0, 0, 0])
  })

  it('tail --since replays from an id, and prints one readable line per event without --json', async () => {
    const { prefix, telemetry, env } = setup()
    await telemetry.emit(queued('old'))
    await telemetry.emit(finished('old'))
    const [[firstId]] = (await redis.xrange(telemetryStreamKey(prefix), '-', '+', 'COUNT', 1)) as [
      [string, string[]],
    ]
    const from0 = await startTail(['--since', '0'], env)
    const fromFirst = await startTail(['--since', firstId], env)
    await waitFor(
      () => from0.lines().length >= 2,
      () => `from0: ${from0.lines().join('\n')}`,
    )
    await waitFor(
      () => fromFirst.lines().length >= 1,
      () => 'fromFirst: nothing',
    )
    const [a, b] = from0.lines()
    expect(a).toMatch(
      /^\d{4}-\d\d-\d\dT\S+Z job\.queued ezra old run=1 tool=git_status mode=SIMPLE requester=alice$/,
    )
    expect(b).toMatch(/ job\.finished ezra old run=1 tool=git_status state=success durationMs=412$/)
    expect(fromFirst.lines()).toEqual([b])
    expect(await Promise.all([from0.stop('SIGINT'), fromFirst.stop('SIGTERM')])).toEqual([0, 0])
  })

  it('a bad flag exits 2 with the reason and the usage, before touching Redis', async () => {
    const { env } = setup()
    const cases: [string[], RegExp][] = [
      [['tail', '--type', 'job.nope'], /--type: an event type: job\.queued/],
      [['tail', '--since', 'yesterday'], /--since: a telemetry event id/],
      [['tail', '--house', ''], /--house: /],
      [['tail', '--bogus'], /Unknown option '--bogus'/],
      [['tail', 'extra'], /unexpected argument "extra"/],
      [[], /the subcommand is `tail` or `status`/],
      [['--status', '--house', 'ezra'], /--house is an option of tail, not of --status/],
      [['follow'], /the subcommand is `tail` or `status`/],
    ]
    const results = await Promise.all(
      cases.map(([args]) => once(args, { ...env, REDIS_URL: 'redis://127.0.0.1:1' })),
    )
    results.forEach((r, i) => {
      const [args, pattern] = cases[i] as [string[], RegExp]
      expect({ args, code: r.code }).toEqual({ args, code: 2 })
      expect(r.stderr.split('\n')[0]).toMatch(pattern)
      expect(r.stderr).toContain('usage: uni-wizard telemetry tail')
    })
  })

  it('--status gives the length, first and last ids, events in the last minute, retention and the sink', async () => {
    const { prefix, telemetry, env, data } = setup()
    const key = telemetryStreamKey(prefix)
    // Two events two minutes old (explicit ids), then three now.
    const [sec] = await redis.time()
    const old = Number(sec) * 1000 - 120_000
    await redis.xadd(key, `${old}-0`, 'data', JSON.stringify(queued('o1')))
    await redis.xadd(key, `${old}-1`, 'data', JSON.stringify(finished('o1')))
    for (const j of ['n1', 'n2', 'n3']) await telemetry.emit(queued(j))
    const ids = ((await redis.xrange(key, '-', '+')) as [string, string[]][]).map(([id]) => id)

    const empty = setup()
    const config = join(data, 'uw.yaml')
    writeFileSync(config, 'telemetry:\n  maxEvents: 5000\n  maxAgeHours: 12\n')
    const [json, text, status, none] = await Promise.all([
      once(['--status', '--json'], { ...env, UW_CONFIG: config }),
      once(['--status'], env),
      once(['status', '--json'], env),
      once(['--status', '--json'], empty.env),
    ])
    expect([json.code, text.code, status.code, none.code], json.stderr + text.stderr).toEqual([0, 0, 0, 0])
    expect(JSON.parse(json.stdout)).toEqual({
      stream: key,
      length: 5,
      first: { id: `${old}-0`, at: new Date(old).toISOString() },
      last: { id: ids[4], at: new Date(Number(ids[4]?.split('-')[0])).toISOString() },
      eventsLastMinute: 3,
      // Three events in the last minute, five in the last 5 and 15 (two of them have no number).
      eventsPerMinute: { last1m: 3, last5m: 1, last15m: 0.3 },
      retention: { enabled: true, maxEvents: 5000, maxAgeHours: 12, onceTtlSeconds: 172800 },
      sink: null,
      learning: [],
    })
    expect(JSON.parse(status.stdout)).toMatchObject({
      length: 5,
      eventsLastMinute: 3,
      retention: { maxEvents: 100000 },
    })
    expect(text.stdout).toContain('length: 5\n')
    expect(text.stdout).toContain(`first: ${old}-0 (${new Date(old).toISOString()})`)
    expect(text.stdout).toContain('events in the last minute: 3\n')
    expect(text.stdout).toContain('events per minute: 3 (1 min), 1 (5 min), 0.3 (15 min)\n')
    expect(text.stdout).toContain('sink: not configured (telemetry.sink)')
    expect(JSON.parse(none.stdout)).toMatchObject({ length: 0, first: null, last: null, eventsLastMinute: 0 })
  })

  it('--status with a sink: its URL without the query, last acknowledged id, lag, buffer, gaps and the forwarder', async () => {
    const { prefix, telemetry, env, data } = setup()
    const token = 'cli-sink-token-0123456789'
    const sink = await startSinkDouble({ token })
    const url = `${sink.url}?key=not-for-logs`
    const reader = new Redis(testRedisUrl(), { maxRetriesPerRequest: null })
    const forwarder = new TelemetryForwarder({
      redis,
      reader,
      prefix,
      sink: TelemetrySinkConfig.parse({ url, tokenEnv: 'UW_SINK_TOKEN', retryMinMs: 10, retryMaxMs: 100 }),
      send: httpSink({ url, token: new Secret(token), timeoutMs: 500 }),
      owner: 'cli-test:7',
      log,
      blockMs: 200,
    })
    try {
      forwarder.start()
      for (const j of ['s1', 's2', 's3']) await telemetry.emit(queued(j))
      await waitFor(
        () => dedupeById(sink.batches).events.length === 3,
        () => 'not forwarded',
      )
      for (let i = 0; i < 200 && (await redis.hget(`${prefix}:telemetry-sink:ack`, 'n')) !== '3'; i++)
        await new Promise((r) => setTimeout(r, 50))
      await sink.down()
      await telemetry.emit(queued('s4'))
      await telemetry.emit(queued('s5'))
      const ids = ((await redis.xrange(telemetryStreamKey(prefix), '-', '+')) as [string, string[]][]).map(
        ([id]) => id,
      )
      const config = join(data, 'uw.yaml')
      writeFileSync(config, `telemetry:\n  sink:\n    url: "${url}"\n    tokenEnv: UW_SINK_TOKEN\n`)
      const withSink = { ...env, UW_CONFIG: config, UW_SINK_TOKEN: token }
      await new Promise((r) => setTimeout(r, 1100))
      const [json, text] = await Promise.all([
        once(['--status', '--json'], withSink),
        once(['--status'], withSink),
      ])
      expect([json.code, text.code], json.stderr + text.stderr).toEqual([0, 0])
      const status = JSON.parse(json.stdout) as { sink: Record<string, unknown> }
      expect(status.sink).toMatchObject({
        url: sink.url,
        lastAcknowledged: { id: ids[2], at: expect.any(String) },
        bufferEvents: 2,
        forwarded: 3,
        gaps: 0,
        forwarder: { owner: 'cli-test:7', fence: 1 },
      })
      expect(status.sink.lagSeconds).toBeGreaterThanOrEqual(1)
      expect(text.stdout).toContain(`sink: ${sink.url}\n`)
      expect(text.stdout).toContain(`last acknowledged: ${ids[2]} (`)
      expect(text.stdout).toMatch(/lag: \d+(\.\d+)? s, buffer: 2 events/)
      expect(text.stdout).toContain('forwarder: cli-test:7 (lease 1, ')
      for (const out of [json.stdout, text.stdout, json.stderr, text.stderr]) {
        expect(out).not.toContain('not-for-logs')
        expect(out).not.toContain(token)
      }
    } finally {
      await forwarder.stop()
      await sink.stop()
    }
  })

  it('tail --since an id older than what is retained says so, then prints the oldest retained', async () => {
    const { prefix, env } = setup()
    const small = new RedisTelemetry({
      redis,
      prefix,
      retention: { maxEvents: 100, maxAgeHours: 24, onceTtlSeconds: 3600 },
      redact: (s) => s,
      log,
    })
    await small.emit(queued('gone'))
    const first = (await redis.xrange(telemetryStreamKey(prefix), '-', '+', 'COUNT', 1))[0]![0]
    for (let i = 0; i < 400; i++) await small.emit(queued(`k${i}`))
    const retained = (await redis.xrange(telemetryStreamKey(prefix), '-', '+')) as [string, string[]][]
    expect(retained[0]![0]).not.toBe(first)
    const t = await startTail(['--since', first, '--json'], env)
    await waitFor(
      () => t.lines().length >= retained.length,
      () => `tail: ${t.lines().length} of ${retained.length}`,
    )
    expect(t.stderr()).toMatch(
      new RegExp(
        `notice: ${first} is older than the oldest retained event ${retained[0]![0]}; events between them`,
      ),
    )
    expect(t.lines().map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(retained.map(([id]) => id))
    expect(await t.stop('SIGTERM')).toBe(0)
    // From an id still retained: no notice.
    const u = await startTail(['--since', retained[0]![0]], env)
    await waitFor(
      () => u.lines().length >= retained.length - 1,
      () => 'u',
    )
    expect(u.stderr()).not.toContain('notice:')
    expect(await u.stop('SIGTERM')).toBe(0)
  })

  it('tail survives a Redis restart: it reconnects from the last id read, with no gap and no duplicate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uw-tcli-redis-'))
    dirs.push(dir)
    let server = await startRedisServer({ dir })
    const port = server.port
    const own = new Redis(server.url, { maxRetriesPerRequest: 1 })
    own.on('error', () => undefined)
    try {
      const { env, prefix } = setup()
      const telemetry = new RedisTelemetry({
        redis: own,
        prefix,
        retention: { maxEvents: 100_000, maxAgeHours: 24, onceTtlSeconds: 3600 },
        redact: (s) => s,
        log,
      })
      const t = await startTail(['--json'], { ...env, REDIS_URL: server.url })
      for (let i = 0; i < 5; i++) await telemetry.emit(queued(`r${i}`))
      await waitFor(
        () => t.lines().length >= 5,
        () => `before: ${t.lines().length}`,
      )
      await server.stop()
      await waitFor(
        () => t.stderr().includes('connection lost'),
        () => `no notice: ${t.stderr()}`,
      )
      server = await startRedisServer({ dir, port })
      await waitFor(
        () => own.status === 'ready',
        () => 'own connection',
      )
      for (let i = 5; i < 10; i++) await telemetry.emit(queued(`r${i}`))
      await waitFor(
        () => t.lines().length >= 10,
        () => `after: ${t.lines().length}; ${t.stderr()}`,
      )
      await new Promise((r) => setTimeout(r, 300))
      expect(t.lines().map((l) => (JSON.parse(l) as { jobId: string }).jobId)).toEqual(
        Array.from({ length: 10 }, (_, i) => `r${i}`),
      )
      expect(t.stderr()).toContain('reconnected; following after ')
      expect(await t.stop('SIGTERM')).toBe(0)
    } finally {
      own.disconnect()
      await server.stop()
    }
  })

  it('without REDIS_URL it exits 1 saying so', async () => {
    const { env } = setup()
    const { REDIS_URL: _, ...noRedis } = env
    const r = await once(['--status'], noRedis)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('REDIS_URL is not set')
  })
})

async function waitFor(ok: () => boolean, why: () => string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error(why())
    await new Promise((r) => setTimeout(r, 50))
  }
}
