import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  faultOf,
  Harness,
  House,
  MemoryCircuitBreaker,
  RedisCircuitBreaker,
  type CircuitBreaker,
} from '../../src/harness/index.js'
import { builtinTools } from '../../src/tools/index.js'
import { customTool } from '../../src/tools/custom/custom-tool.js'
import { ToolError } from '../../src/tools/tool.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'
import { testTool } from './test-tools.js'

// Issue 10: five `file_read path=missing` opened the shared breaker and refused another user's read.
const breaker = { failureThreshold: 5, windowMs: 60_000, cooldownMs: 30_000, closedCacheMs: 0 }
const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 })
const prefixes: string[] = []
let root: string
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'uw-breaker-'))
  await writeFile(path.join(root, 'notes.txt'), 'hello\n')
})
afterEach(async () => {
  await Promise.all(prefixes.splice(0).map((p) => cleanupPrefix(p)))
})
afterAll(async () => {
  redis.disconnect()
  await rm(root, { recursive: true, force: true })
})

const kinds: { name: string; make: () => CircuitBreaker }[] = [
  { name: 'memory', make: () => new MemoryCircuitBreaker(breaker) },
  {
    name: 'redis',
    make: () => {
      const prefix = uniquePrefix()
      prefixes.push(prefix)
      return new RedisCircuitBreaker(redis, breaker, prefix)
    },
  },
]

const hangs = testTool('hangs', (_a) => new Promise(() => {}))
const flaky = testTool('flaky', async () => {
  throw new ToolError('upstream answered 503', true)
})
const crashes = testTool('crashes', async () => {
  throw new TypeError("Cannot read properties of undefined (reading 'x')")
})
const notInstalled = customTool({
  name: 'not_installed',
  description: 'a program that is not there',
  command: ['uw-no-such-program-anywhere'],
  access: 'read',
})

function harness(b: CircuitBreaker): Harness {
  return new Harness({
    house: House.ALLEGRO,
    tools: [...builtinTools, hangs, flaky, crashes, notInstalled],
    config: {
      breaker,
      retry: { maxAttempts: 1 },
      houses: { allegro: { workspaceRoots: [root], timeouts: { hangs: 50 } } },
    },
    stores: { breaker: b },
  })
}

const asked = { requestedBy: 'mallory' }
const other = { requestedBy: 'alice' }

describe.each(kinds)('$name breaker through the Harness', ({ make }) => {
  it.each([
    ['a missing file', { path: 'missing.txt' }],
    ['a path outside the workspace', { path: '/etc/hostname' }],
    ['a directory', { path: '.' }],
    // Names that look like transient trouble to a text match still are the caller's own.
    ['a file named ECONNRESET', { path: 'ECONNRESET' }],
    ['a file named index.lock', { path: 'index.lock' }],
  ])('five file_read of %s leave the circuit closed for everyone', async (_what, args) => {
    const b = make()
    const h = harness(b)
    for (let i = 0; i < 6; i++) expect((await h.execute('file_read', args, asked)).status).toBe('failure')
    expect((await b.state('allegro:file_read')).failures).toBe(0)
    const ok = await h.execute('file_read', { path: 'notes.txt' }, other)
    expect(ok.status).toBe('success')
    expect(ok.output).toBe('hello\n')
  })

  it('bad arguments and a bad regex are not counted either', async () => {
    const b = make()
    const h = harness(b)
    for (let i = 0; i < 6; i++) {
      expect((await h.execute('file_read', { nope: 1 }, asked)).error?.rule).toBe('bad-args')
      const r = await h.execute('file_search', { path: '.', query: '(', regex: true }, asked)
      expect(r.error?.reason).toContain('invalid regex')
    }
    expect((await h.execute('file_search', { path: '.', query: 'hello' }, other)).status).toBe('success')
    expect((await h.execute('file_read', { path: 'notes.txt' }, other)).status).toBe('success')
  })

  it.each([
    ['timeouts', 'hangs', 'timeout'],
    ['transient failures', 'flaky', 'failure'],
    ['crashes', 'crashes', 'failure'],
    ['a program that cannot be started', 'not_installed', 'failure'],
  ])('five %s still open it', async (_what, tool, status) => {
    const b = make()
    const h = harness(b)
    for (let i = 0; i < 5; i++) expect((await h.execute(tool, {}, asked)).status).toBe(status)
    const refused = await h.execute(tool, {}, other)
    expect(refused.error?.rule).toBe('circuit-open')
    expect(refused.attempts).toBe(0)
    // Only that tool: file_read of the same house still runs.
    expect((await h.execute('file_read', { path: 'notes.txt' }, other)).status).toBe('success')
  })

  it("a half-open probe that fails through the caller's fault frees the probe slot", async () => {
    const b = make()
    const t = Date.now() - 40_000
    for (let i = 0; i < 5; i++) await b.record('allegro:file_read', false, false, t + i)
    const h = harness(b) // the cool-down is over: the next call is the probe
    expect((await h.execute('file_read', { path: 'missing.txt' }, asked)).error?.reason).toContain(
      'no such file',
    )
    expect((await b.state('allegro:file_read')).state).toBe('half-open')
    // Without the release, this call would be refused until the probe's lease ran out.
    expect((await h.execute('file_read', { path: 'notes.txt' }, other)).status).toBe('success')
    expect((await b.state('allegro:file_read')).state).toBe('closed')
  })
})

describe('faultOf', () => {
  const spawnEnoent = Object.assign(new Error('spawn git ENOENT'), { code: 'ENOENT', syscall: 'spawn git' })
  const openEnoent = Object.assign(new Error('ENOENT: open x'), { code: 'ENOENT', syscall: 'open' })
  const eio = Object.assign(new Error('EIO: write'), { code: 'EIO', syscall: 'write' })
  const gitea404 = Object.assign(new Error('HTTP 404'), { status: 404, transient: false })
  const gitea502 = Object.assign(new Error('HTTP 502'), { status: 502, transient: true })
  it.each<[string, unknown, 'caller' | 'dependency']>([
    ['a plain ToolError', new ToolError('no such file or directory: x'), 'caller'],
    ['a ToolError quoting a transient-looking name', new ToolError('no such file: ECONNRESET'), 'caller'],
    ['a transient ToolError', new ToolError('HTTP 503', true), 'dependency'],
    [
      'an explicit dependency fault',
      new ToolError('df failed', false, { fault: 'dependency' }),
      'dependency',
    ],
    ['an explicit caller fault wins over transient', new ToolError('x', true, { fault: 'caller' }), 'caller'],
    [
      'command not found (spawn ENOENT)',
      new ToolError('command not found: git', false, { cause: spawnEnoent }),
      'dependency',
    ],
    ['a write that hit EIO', new ToolError('write failed', false, { cause: eio }), 'dependency'],
    ['a wrapped 404', new ToolError('get failed', false, { cause: gitea404 }), 'caller'],
    ['a wrapped 502', new ToolError('get failed', false, { cause: gitea502 }), 'dependency'],
    ['a crash', new TypeError('x is undefined'), 'dependency'],
    ['a raw ENOENT about a path', openEnoent, 'caller'],
    ['a raw spawn ENOENT', spawnEnoent, 'dependency'],
    ['a thrown string', 'boom', 'dependency'],
  ])('%s is the %s fault', (_what, err, fault) => {
    expect(faultOf(err)).toBe(fault)
  })
})

describe('tools that mark whose fault a failure is', () => {
  const ctx = () => ({
    signal: new AbortController().signal,
    house: 'allegro',
    workspaceRoots: [root],
    log: undefined as never,
  })
  const failureOf = (p: Promise<unknown>) => p.then(() => undefined, faultOf)
  const sh = (name: string, script: string) =>
    customTool({ name, description: name, access: 'read', command: ['sh', '-c', script] })

  it("a custom tool's non-zero exit is the caller's; a kill by signal or exit 127 is a crash", async () => {
    expect(await failureOf(sh('exits_3', 'exit 3').run({}, ctx()))).toBe('caller')
    expect(await failureOf(sh('killed', 'kill -9 $$').run({}, ctx()))).toBe('dependency')
    expect(await failureOf(sh('exits_127', 'exit 127').run({}, ctx()))).toBe('dependency')
  })

  it('a Gitea 404 is the caller’s, a 401 (the bot’s token) and a 5xx are the dependency’s', async () => {
    const { viaPort } = await import('../../src/tools/gitea/gitea-args.js')
    const failWith = (status: number) =>
      viaPort('get issue', () =>
        Promise.reject(Object.assign(new Error(`HTTP ${status}`), { status, transient: status >= 500 })),
      )
    expect(await failureOf(failWith(404))).toBe('caller')
    expect(await failureOf(failWith(401))).toBe('dependency')
    expect(await failureOf(failWith(503))).toBe('dependency')
  })
})
