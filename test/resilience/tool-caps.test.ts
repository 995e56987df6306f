// Tool caps: custom tools (declared as configuration, run through Harness.execute as a worker does)
// that write 100 MB of output or never exit. Each is capped or killed, the process's memory stays
// bounded while it happens, and the next job runs normally.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Harness } from '../../src/harness/index.js'
import type { ToolResult } from '../../src/harness/tool-result.js'
import { ToolsConfig } from '../../src/tools/tools-config.js'
import { toolsFromConfig } from '../../src/tools/tools-from-config.js'
import { reportSummary } from './summary.js'

const MB = 1024 * 1024
const FLOOD_BYTES = 100 * MB
/** Generous: a tool that kept its output would add at least 100 MB (200 MB as a JS string). */
const MAX_RSS_GROWTH_MB = 96
const HANG_TIMEOUT_MS = 600

const tools = toolsFromConfig(
  ToolsConfig.parse({
    customTools: [
      {
        name: 'flood_stdout',
        description: 'Writes 100 MB to stdout',
        command: ['sh', '-c', `yes uni-wizard-flood | head -c ${FLOOD_BYTES}`],
        access: 'read',
        timeoutMs: 60_000,
      },
      {
        name: 'flood_both',
        description: 'Writes 100 MB to stdout and 100 MB to stderr, one line without a newline',
        command: [
          'sh',
          '-c',
          `head -c ${FLOOD_BYTES} /dev/zero | tr '\\0' x & head -c ${FLOOD_BYTES} /dev/zero >&2; wait`,
        ],
        access: 'read',
        timeoutMs: 60_000,
      },
      {
        name: 'hang',
        description: 'Never exits, ignores SIGTERM, and leaves a child behind',
        command: [
          'sh',
          '-c',
          `echo $$ > "$1"; trap '' TERM; sleep 1000 & while :; do sleep 1; done`,
          'sh',
          '{pidFile}',
        ],
        args: { pidFile: { type: 'string' } },
        access: 'read',
        timeoutMs: HANG_TIMEOUT_MS,
      },
      {
        name: 'say',
        description: 'Prints its argument',
        command: ['printf', '%s', '{msg}'],
        args: { msg: { type: 'string' } },
        access: 'read',
        timeoutMs: 10_000,
      },
    ],
  }),
)

let dir: string
let harness: Harness
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'uw-resilience-caps-'))
  harness = new Harness({
    house: 'bezalel',
    mode: 'simple',
    tools,
    config: { houses: { bezalel: { workspaceRoots: [dir] } } },
    keyDir: join(dir, 'keys'),
    auditPath: join(dir, 'audit.jsonl'),
  })
})
afterAll(async () => {
  await harness.close()
  rmSync(dir, { recursive: true, force: true })
})

/** Runs `fn` while sampling RSS every 10 ms; returns its result and the peak growth in MB. */
async function withPeakRss<T>(fn: () => Promise<T>): Promise<{ value: T; growthMb: number }> {
  global.gc?.()
  const before = process.memoryUsage().rss
  let peak = before
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss)
  }, 10)
  try {
    const value = await fn()
    peak = Math.max(peak, process.memoryUsage().rss)
    return { value, growthMb: (peak - before) / MB }
  } finally {
    clearInterval(timer)
  }
}

/** Running, not merely a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

async function goneWithin(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (!alive(pid)) return true
    await delay(25)
  }
  return !alive(pid)
}

describe('tool caps', () => {
  it('caps a 100 MB flood, kills a tool that never exits, keeps memory bounded, then runs the next job', async () => {
    const results: { job: string; result: ToolResult; growthMb: number }[] = []
    const run = async (job: string, tool: string, args: Record<string, unknown>) => {
      const { value, growthMb } = await withPeakRss(() =>
        harness.execute(tool, args, { requestedBy: 'fuzz' }),
      )
      results.push({ job, result: value, growthMb })
      return { result: value, growthMb }
    }

    const flood = await run('flood stdout', 'flood_stdout', {})
    expect(flood.result.status).toBe('success')
    // Kept: the harness's output cap (64 KiB default) plus its truncation note; the exec cap
    // (1 MiB per stream) already dropped the other 99 MB without holding them.
    expect(Buffer.byteLength(flood.result.output)).toBeLessThan(70 * 1024)
    expect(flood.result.output).toContain('output truncated')
    // The tool's own note on what exec dropped survives the harness cap (regression: it used to
    // sit at the end and be cut, so a 100 MB flood reported under 1 MB lost).
    expect(flood.result.output).toMatch(new RegExp(`^\\[${FLOOD_BYTES - MB} bytes of output cut\\]`))
    expect(flood.result.truncatedBytes).toBeGreaterThan(0)
    expect(flood.growthMb).toBeLessThan(MAX_RSS_GROWTH_MB)

    const both = await run('flood both streams', 'flood_both', {})
    expect(both.result.status).toBe('success')
    expect(Buffer.byteLength(both.result.output)).toBeLessThan(70 * 1024)
    expect(both.growthMb).toBeLessThan(MAX_RSS_GROWTH_MB)

    const pidFile = join(dir, 'hang.pid')
    const started = Date.now()
    const hang = await run('never exits', 'hang', { pidFile })
    const answeredMs = Date.now() - started
    expect(hang.result.status).toBe('timeout')
    expect(hang.result.error?.rule).toBe('timeout')
    // The job answers at its deadline, not when the process finally dies.
    expect(answeredMs).toBeLessThan(HANG_TIMEOUT_MS + 5_000)
    const pid = Number(readFileSync(pidFile, 'utf8').trim())
    expect(pid).toBeGreaterThan(0)
    // SIGTERM is ignored, so the group dies by SIGKILL after the 2 s grace.
    expect(await goneWithin(pid, 10_000)).toBe(true)

    const next = await run('next job', 'say', { msg: 'still here' })
    expect(next.result.status).toBe('success')
    expect(next.result.output).toBe('still here')

    const handled = results.filter(
      (r) => r.result.status === (r.job === 'never exits' ? 'timeout' : 'success'),
    ).length
    reportSummary(
      'tool-caps',
      { sent: 4, acknowledged: results.length, handled, duplicates: 0, lost: 4 - results.length },
      {
        floodKeptBytes: Buffer.byteLength(flood.result.output),
        peakRssGrowthMb: Math.max(...results.map((r) => r.growthMb)).toFixed(1),
        rssBoundMb: MAX_RSS_GROWTH_MB,
        hangAnsweredMs: answeredMs,
        hangStatus: hang.result.status,
      },
    )
  })
})
