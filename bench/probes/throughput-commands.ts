// Redis commands per job in the throughput scenario: runs one subject round and one baseline
// round with MONITOR on, and counts the commands each client sent (not those run inside Lua),
// per job, by command name. Slow (MONITOR), for looking at what a job costs, not for timing.
// npx tsx bench/probes/throughput-commands.ts [jobs]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { Redis } from 'ioredis'
import { startRedisServer } from '../../src/queue/redis-server.js'
import { baselineRound, subjectRound } from '../scenarios/throughput.js'

const jobs = Number(process.argv[2] ?? process.env.UW_BENCH_THROUGHPUT_JOBS ?? 500)

function table(name: string, counts: Map<string, number>, n: number): void {
  const total = [...counts.values()].reduce((a, b) => a + b, 0)
  process.stdout.write(`${name}: ${(total / n).toFixed(2)} commands per job\n`)
  for (const [cmd, c] of [...counts].sort((a, b) => b[1] - a[1]))
    process.stdout.write(`  ${cmd.padEnd(40)} ${(c / n).toFixed(2)}\n`)
}

/** SHA1 → name of every BullMQ script and every LuaScript of ours (by the constant's name). */
async function scriptNames(): Promise<Map<string, string>> {
  const names = new Map<string, string>()
  const sha = (text: string) => createHash('sha1').update(text).digest('hex')
  const bull = join(dirname(createRequire(import.meta.url).resolve('bullmq')), 'scripts')
  for (const f of readdirSync(bull).filter((f) => f.endsWith('.js') && !f.startsWith('index'))) {
    const mod = (await import(join(bull, f))) as Record<string, { name?: string; content?: string }>
    for (const v of Object.values(mod)) if (v?.content) names.set(sha(v.content), `bullmq ${v.name}`)
  }
  const src = join(import.meta.dirname, '../../src')
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith('.ts') ? [join(d, e.name)] : [],
    )
  for (const f of walk(src)) {
    const text = readFileSync(f, 'utf8')
    for (const m of text.matchAll(/const (\w+) = new LuaScript\(`([^`]*)`\)/g))
      names.set(sha(m[2] ?? ''), `uw ${m[1]} (${f.slice(src.length + 1)})`)
  }
  return names
}

const dir = mkdtempSync(join(tmpdir(), 'uw-probe-throughput-'))
const redis = await startRedisServer({ dir: join(dir, 'redis') })
try {
  const shas = await scriptNames()
  let counts = new Map<string, number>()
  const monitor = await new Redis(redis.url, { retryStrategy: () => null }).monitor()
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (source === 'lua') return
    let name = (args[0] ?? '').toLowerCase()
    if (name === 'evalsha') name = `evalsha ${shas.get(args[1] ?? '') ?? (args[1] ?? '').slice(0, 8)}`
    if (name === 'eval') {
      const first = (args[1] ?? '').split('\n').find((l) => l.trim() !== '' && !l.startsWith('--')) ?? ''
      name = `eval ${first.trim().slice(0, 30)}`
    }
    counts.set(name, (counts.get(name) ?? 0) + 1)
  })
  // Name BullMQ's scripts by their first lines: load them once through a warm-up round.
  await subjectRound(redis.url, dir, 0)
  counts = new Map()
  const t = await subjectRound(redis.url, dir, 1)
  table(`house worker (${t.toFixed(0)} jobs/s under MONITOR)`, counts, jobs)
  counts = new Map()
  const b = await baselineRound(redis.url, 1)
  table(`bare BullMQ worker (${b.toFixed(0)} jobs/s under MONITOR)`, counts, jobs)
  monitor.disconnect()
} finally {
  await redis.stop()
  rmSync(dir, { recursive: true, force: true })
}
