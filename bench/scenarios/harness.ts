// Overhead of Harness.execute over calling a tool's function directly, SIMPLE and SOVEREIGN, same run.
// Standalone: npx tsx bench/scenarios/harness.ts
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { pino } from 'pino'
import { z } from 'zod'
import { Harness } from '../../src/harness/harness.js'
import type { ToolContext, ToolSpec } from '../../src/tools/tool.js'

/** One number a scenario reports. */
export interface Measurement {
  name: string
  value: number
  unit: string
  /** Upper bound the value should stay under, when there is one. */
  target?: number
  pass?: boolean
}

const NoopArgs = z.object({ text: z.string().default('') })
const noop: ToolSpec<typeof NoopArgs> = {
  name: 'noop',
  category: 'custom',
  description: 'does nothing',
  args: NoopArgs,
  access: 'read',
  timeoutMs: 10_000,
  target: () => undefined,
  run: async (a) => ({ output: a.text }),
  verify: async () => ({ kind: 'noop', summary: 'nothing to check', detail: {} }),
}

async function timePerCall(n: number, fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.min(500, n); i++) await fn() // warm up the JIT
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) await fn()
  return Number(process.hrtime.bigint() - t0) / n / 1000 // µs per call
}

async function run(): Promise<Measurement[]> {
  const dir = mkdtempSync(join(tmpdir(), 'uw-bench-harness-'))
  try {
    const args = { text: 'hello' }
    const ctx: ToolContext = {
      signal: new AbortController().signal,
      house: 'allegro',
      workspaceRoots: [dir],
      log: pino({ level: 'silent' }),
    }
    const simple = new Harness({ house: 'allegro', mode: 'simple', tools: [noop] })
    const sovereign = new Harness({
      house: 'timmy',
      mode: 'sovereign',
      tools: [noop],
      keyDir: join(dir, 'keys'),
      auditPath: join(dir, 'audit.jsonl'),
      config: { houses: { timmy: { sovereigns: ['alice'] } } },
    })
    const approval = sovereign.approve('noop', args, { approver: 'alice' })
    const check = await sovereign.execute('noop', args, { requestedBy: 'bob', approval })
    if (check.status !== 'success') throw new Error(`sovereign bench call failed: ${check.error?.reason}`)

    const direct = await timePerCall(20_000, () => noop.run(NoopArgs.parse(args), ctx))
    const viaSimple = await timePerCall(20_000, () => simple.execute('noop', args, { requestedBy: 'bob' }))
    const viaSovereign = await timePerCall(3_000, () =>
      sovereign.execute('noop', args, { requestedBy: 'bob', approval }),
    )
    await sovereign.close()
    const simpleOverhead = viaSimple - direct
    const sovereignOverhead = viaSovereign - direct
    return [
      { name: 'direct tool call', value: round(direct), unit: 'µs/call' },
      { name: 'execute SIMPLE', value: round(viaSimple), unit: 'µs/call' },
      {
        name: 'execute SOVEREIGN (approval, sign, audit append)',
        value: round(viaSovereign),
        unit: 'µs/call',
      },
      {
        name: 'SIMPLE overhead',
        value: round(simpleOverhead),
        unit: 'µs/call',
        target: 50,
        pass: simpleOverhead < 50,
      },
      {
        name: 'SOVEREIGN overhead',
        value: round(sovereignOverhead),
        unit: 'µs/call',
        target: 1000,
        pass: sovereignOverhead < 1000,
      },
    ]
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100
}

/** The `harness` bench scenario. */
export const scenario = {
  name: 'harness',
  description: 'overhead of Harness.execute for a no-op tool vs a direct call, SIMPLE and SOVEREIGN',
  run,
}
export default scenario

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await run()
  for (const m of results) {
    const verdict = m.target === undefined ? '' : `  (target < ${m.target}: ${m.pass ? 'pass' : 'FAIL'})`
    console.log(`${m.name.padEnd(50)} ${String(m.value).padStart(9)} ${m.unit}${verdict}`)
  }
  process.exitCode = results.every((m) => m.pass !== false) ? 0 : 1
}
