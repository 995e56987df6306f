// Cold start to /ready and peak RSS of `uni-wizard serve` (the compiled build, as `npm start` runs
// it) as a child process under webhook load, against a bare Node HTTP server spawned and loaded the
// same way. Standalone: npx tsx bench/scenarios/memory.ts
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { freePort, startRedisServer } from '../../src/queue/redis-server.js'
import { SandboxInfo } from '../../src/sandbox/start-sandbox.js'
import { signBody } from '../../src/server/verify-signature.js'
import type { Round, Scenario, ScenarioResult } from '../scenario.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SECRET = 'bench-memory-secret'
const READY_DEADLINE_MS = 20_000

/** Where the load is sent and how it is signed. */
export interface LoadTarget {
  url: string
  secret: string
  /** Unique per round and process, so delivery ids never collide. */
  idPrefix: string
  /** The process's UW_DATA_DIR (where a sandbox writes sandbox.json); unset for the bare baseline. */
  dataDir?: string
}

/** What a load sent; `accepted` counts 2xx answers. */
export interface LoadStats {
  sent: number
  accepted: number
  seconds: number
}

/**
 * The load applied while peak RSS is measured. Pluggable: today signed comment deliveries at a
 * steady rate; once the bot loop runs inside `serve`, pass the e2e load (commands that become jobs,
 * run by workers and reported back) instead.
 */
export type LoadProfile = (target: LoadTarget) => Promise<LoadStats>

/**
 * Signed `issue_comment` deliveries (a `/run` command, about 6-7 KB each) at `ratePerSecond` for
 * `durationMs`, open loop: requests are sent on schedule whether or not earlier ones have answered.
 *
 * @example
 *   const load = steadyCommentLoad({ ratePerSecond: 200, durationMs: 5000 })
 */
export function steadyCommentLoad(options: { ratePerSecond: number; durationMs: number }): LoadProfile {
  const fixture = JSON.parse(
    readFileSync(join(ROOT, 'test/fixtures/webhooks/synthetic/issue_comment-created-issue.json'), 'utf8'),
  ) as { comment: { id: number; body: string } }
  return async (target) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 64 })
    const url = new URL('/webhooks/gitea', target.url)
    const total = Math.round((options.ratePerSecond * options.durationMs) / 1000)
    let accepted = 0
    const post = (n: number) =>
      new Promise<void>((resolve) => {
        fixture.comment.id = 5_000_000 + n
        fixture.comment.body = `/run git_status @bezalel\n\nload ${target.idPrefix} ${n}`
        const body = Buffer.from(JSON.stringify(fixture))
        const sig = signBody(body, target.secret)
        const req = request(
          url,
          {
            method: 'POST',
            agent,
            headers: {
              'content-type': 'application/json',
              'content-length': body.length,
              'x-gitea-delivery': `${target.idPrefix}-${n}`,
              'x-gitea-event': 'issue_comment',
              'x-gitea-event-type': 'issue_comment',
              'x-gitea-signature': sig,
            },
          },
          (res) => {
            if (res.statusCode && res.statusCode < 300) accepted++
            res.resume()
            res.on('end', resolve)
          },
        )
        req.on('error', () => resolve())
        req.end(body)
      })
    const started = Date.now()
    const inFlight: Promise<void>[] = []
    for (let n = 0; n < total; n++) {
      const due = started + (n * 1000) / options.ratePerSecond
      const wait = due - Date.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      inFlight.push(post(n))
    }
    await Promise.all(inFlight)
    agent.destroy()
    return { sent: total, accepted, seconds: (Date.now() - started) / 1000 }
  }
}

/** A bare node:http server: /ready answers 200, a POST is read to the end and answered 202. */
const BARE_SERVER = `
const http = require('node:http')
http.createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    res.writeHead(req.method === 'POST' ? 202 : 200, { 'content-type': 'application/json' })
    res.end('{"ok":true}')
  })
}).listen(Number(process.env.PORT), '127.0.0.1')
`

function newestMtime(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path))
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs)
  }
  return newest
}

/** Builds dist/ (what `npm start` runs) when it is missing or older than the sources. */
function ensureBuild(progress: (line: string) => void): void {
  const main = join(ROOT, 'dist/src/cli/main.js')
  let built = 0
  try {
    built = statSync(main).mtimeMs
  } catch {
    built = 0
  }
  const sources = Math.max(
    ...['src', 'commands', 'handlers', 'labels'].map((d) => newestMtime(join(ROOT, d))),
  )
  if (built >= sources) return
  progress('  building dist/ (npm run build) so the subject is what npm start runs')
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  )
  if (r.status !== 0) throw new Error('npm run build failed')
}

/** Peak (VmHWM) and current (VmRSS) resident set of a process, in MB. */
function rssOf(pid: number): { peakMb: number; currentMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
  return { peakMb: kb('VmHWM') / 1024, currentMb: kb('VmRSS') / 1024 }
}

async function waitReady(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + READY_DEADLINE_MS
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`process exited with ${child.exitCode} before /ready:\n${stderr()}`)
    try {
      const res = await fetch(`${url}/ready`)
      await res.arrayBuffer()
      if (res.status === 200) return
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`no 200 from ${url}/ready within ${READY_DEADLINE_MS} ms`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/**
 * The e2e load: `/run git_status @bezalel` comments posted as the sandbox writer through the
 * sandbox's Gitea double at `commandsPerSecond` for `durationMs` (open loop). Each comment becomes
 * a signed webhook, a job run by a house worker and a result comment edited by the reporter, all
 * inside the measured `serve`. A process without a sandbox (the bare baseline) gets the same rate
 * of signed comment deliveries instead.
 *
 * @example
 *   const load = sandboxCommandLoad({ commandsPerSecond: 20, durationMs: 30_000 })
 */
export function sandboxCommandLoad(options: { commandsPerSecond: number; durationMs: number }): LoadProfile {
  const fallback = steadyCommentLoad({
    ratePerSecond: options.commandsPerSecond,
    durationMs: options.durationMs,
  })
  return async (target) => {
    const file = target.dataDir ? join(target.dataDir, 'sandbox.json') : undefined
    let info: SandboxInfo | undefined
    for (let i = 0; file && i < 100 && !info; i++) {
      try {
        info = SandboxInfo.parse(JSON.parse(readFileSync(file, 'utf8')))
      } catch {
        await new Promise((r) => setTimeout(r, 50))
      }
    }
    if (!info) return fallback(target)
    const { giteaUrl, repo, issue, users } = info
    const url = `${giteaUrl}/api/v1/repos/${repo.owner}/${repo.name}/issues/${issue}/comments`
    const total = Math.round((options.commandsPerSecond * options.durationMs) / 1000)
    const started = performance.now()
    let accepted = 0
    const posts: Promise<void>[] = []
    for (let n = 0; n < total; n++) {
      const due = started + (n * 1000) / options.commandsPerSecond
      const wait = due - performance.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      posts.push(
        fetch(url, {
          method: 'POST',
          headers: { authorization: `token ${users.writer.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ body: `/run git_status @bezalel\n\nload ${target.idPrefix} ${n}` }),
        }).then(
          async (res) => {
            if (res.status === 201) accepted++
            await res.arrayBuffer()
          },
          () => undefined,
        ),
      )
    }
    await Promise.all(posts)
    // Let the jobs started by the last commands run and report while RSS is still being watched.
    await new Promise((r) => setTimeout(r, 2000))
    return { sent: total, accepted, seconds: (performance.now() - started) / 1000 }
  }
}

interface Measured {
  coldStartMs: number
  peakRssMb: number
  idleRssMb: number
  load: LoadStats
}

/** Spawns a server, times spawn → /ready 200, applies the load, reads its peak RSS, stops it. */
async function measureProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
  load: LoadProfile,
  idPrefix: string,
): Promise<Measured> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const started = performance.now()
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000)
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  try {
    await waitReady(url, child, () => stderr)
    const coldStartMs = performance.now() - started
    const idleRssMb = rssOf(child.pid as number).currentMb
    const stats = await load({ url, secret: SECRET, idPrefix, dataDir: env.UW_DATA_DIR })
    const { peakMb } = rssOf(child.pid as number)
    return { coldStartMs, peakRssMb: peakMb, idleRssMb, load: stats }
  } finally {
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }
}

const RATE = 20
const DURATION_MS = Number(process.env.UW_BENCH_MEMORY_SECONDS ?? 10) * 1000

async function run(options: {
  rounds: number
  progress(line: string): void
  load?: LoadProfile
}): Promise<ScenarioResult> {
  ensureBuild(options.progress)
  const load = options.load ?? sandboxCommandLoad({ commandsPerSecond: RATE, durationMs: DURATION_MS })
  const dir = mkdtempSync(join(tmpdir(), 'uw-bench-memory-'))
  const redis = await startRedisServer({ dir: join(dir, 'redis') })
  // The e2e load sends every command from one sandbox user on one issue: lift the rate limits.
  const configFile = join(dir, 'config.yaml')
  writeFileSync(
    configFile,
    'commands:\n  rateLimit:\n    perUser: { limit: 1000000, windowSeconds: 60 }\n    perIssue: { limit: 1000000, windowSeconds: 60 }\n  maxCommandsPerComment: 10\n',
  )
  try {
    const rounds: Round[] = []
    let accepted = 0
    for (let i = 0; i < options.rounds; i++) {
      const subject = await measureProcess(
        ['bin/uni-wizard.js', 'serve'],
        {
          WEBHOOK_SECRET: SECRET,
          REDIS_URL: redis.url,
          UW_DATA_DIR: join(dir, `data-${i}`),
          UW_CONFIG: configFile,
          LOG_LEVEL: 'info',
        },
        load,
        `mem-${Date.now()}-${i}`,
      )
      const baseline = await measureProcess(['-e', BARE_SERVER], {}, load, `bare-${i}`)
      accepted += subject.load.accepted
      if (subject.load.accepted !== subject.load.sent)
        throw new Error(`serve accepted ${subject.load.accepted} of ${subject.load.sent} deliveries`)
      rounds.push({
        subject: {
          coldStartMs: subject.coldStartMs,
          peakRssMb: subject.peakRssMb,
          idleRssMb: subject.idleRssMb,
        },
        baseline: {
          coldStartMs: baseline.coldStartMs,
          peakRssMb: baseline.peakRssMb,
          idleRssMb: baseline.idleRssMb,
        },
      })
      options.progress(
        `  round ${i + 1}/${options.rounds}: serve ready in ${subject.coldStartMs.toFixed(0)} ms, peak RSS ` +
          `${subject.peakRssMb.toFixed(1)} MB (bare node ${baseline.coldStartMs.toFixed(0)} ms, ` +
          `${baseline.peakRssMb.toFixed(1)} MB)`,
      )
    }
    return {
      subject: '`node bin/uni-wizard.js serve` (compiled build, external Redis, LOG_LEVEL=info to /dev/null)',
      baseline:
        'a bare node:http server (`node -e`) answering /ready 200 and POST 202, spawned and loaded the same way',
      metrics: [
        { key: 'coldStartMs', label: 'cold start: spawn to /ready 200', unit: 'ms', better: 'lower' },
        { key: 'peakRssMb', label: 'peak RSS under load (VmHWM)', unit: 'MB', better: 'lower' },
        { key: 'idleRssMb', label: 'RSS when first ready', unit: 'MB', better: 'lower' },
      ],
      rounds,
      targets: [
        { metric: 'peakRssMb', kind: 'max', value: 250, description: 'peak RSS under load below 250 MB' },
        { metric: 'coldStartMs', kind: 'max', value: 1500, description: 'cold start to /ready below 1.5 s' },
      ],
      settings: {
        load: options.load
          ? 'custom'
          : `e2e: /run git_status @bezalel comments through the sandbox double, ${RATE}/s open loop for ${DURATION_MS} ms, then 2 s of draining (baseline: the same rate of signed comment deliveries)`,
        deliveriesAccepted: accepted,
      },
    }
  } finally {
    await redis.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * The `memory` scenario with another load, e.g. the e2e load once the loop runs inside `serve`.
 *
 * @example
 *   export const memoryScenario = memoryScenarioWith(e2eLoad({ commandsPerSecond: 20, durationMs: 30_000 }))
 */
export function memoryScenarioWith(load: LoadProfile): Scenario {
  return { ...memoryScenario, run: (options) => run({ ...options, load }) }
}

/** The `memory` bench scenario (load: sandboxCommandLoad, the e2e load). */
export const memoryScenario: Scenario = {
  name: 'memory',
  description:
    'cold start to /ready and peak RSS of `uni-wizard serve` (sandbox, everything in one process) under the e2e load, vs a bare Node server',
  run,
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await run({ rounds: 3, progress: (line) => console.log(line) })
  console.log(JSON.stringify(result.rounds, null, 2))
}
