// Overhead of Harness.execute over calling a tool's function directly, SIMPLE and SOVEREIGN, same run.
// Standalone: npx tsx bench/scenarios/harness.ts
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { pino } from 'pino'
import { Harness } from '../../src/harness/harness.js'
import type { ToolContext } from '../../src/tools/tool.js'
import { NoopArgs, noopTool as noop } from '../lib/noop-tool.js'
import type { Round, Scenario, ScenarioResult } from '../scenario.js'

async function timePerCall(n: number, fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.min(500, n); i++) await fn() // warm up the JIT
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) await fn()
  return Number(process.hrtime.bigint() - t0) / n / 1000 // µs per call
}

/** One round: direct calls, then SIMPLE and SOVEREIGN executes, back to back (µs per call). */
async function measureRound(dir: string, calls: number): Promise<Round> {
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

  const direct = await timePerCall(calls, () => noop.run(NoopArgs.parse(args), ctx))
  const viaSimple = await timePerCall(calls, () => simple.execute('noop', args, { requestedBy: 'bob' }))
  const viaSovereign = await timePerCall(Math.ceil(calls / 8), () =>
    sovereign.execute('noop', args, { requestedBy: 'bob', approval }),
  )
  await sovereign.close()
  return {
    subject: {
      simpleUs: viaSimple,
      sovereignUs: viaSovereign,
      simpleOverheadUs: viaSimple - direct,
      sovereignOverheadUs: viaSovereign - direct,
    },
    baseline: {
      simpleUs: direct,
      sovereignUs: direct,
      simpleOverheadUs: direct,
      sovereignOverheadUs: direct,
    },
  }
}

const CALLS = 20_000

async function run(options: { rounds: number; progress(line: string): void }): Promise<ScenarioResult> {
  const dir = mkdtempSync(join(tmpdir(), 'uw-bench-harness-'))
  try {
    const rounds: Round[] = []
    for (let i = 0; i < options.rounds; i++) {
      const r = await measureRound(dir, CALLS)
      rounds.push(r)
      options.progress(
        `  round ${i + 1}: SIMPLE +${round(r.subject.simpleOverheadUs ?? 0)} µs, SOVEREIGN +${round(r.subject.sovereignOverheadUs ?? 0)} µs per call`,
      )
    }
    return {
      subject:
        'Harness.execute of a no-op tool (SIMPLE; SOVEREIGN with approval check, signing, audit append to a file)',
      baseline: 'the same tool function called directly (args parsed with its schema)',
      metrics: [
        {
          key: 'simpleUs',
          label: 'execute SIMPLE (baseline: direct call)',
          unit: 'µs/call',
          better: 'lower',
        },
        {
          key: 'sovereignUs',
          label: 'execute SOVEREIGN (baseline: direct call)',
          unit: 'µs/call',
          better: 'lower',
        },
        {
          key: 'simpleOverheadUs',
          label: 'SIMPLE overhead (baseline: direct call)',
          unit: 'µs/call',
          better: 'lower',
        },
        {
          key: 'sovereignOverheadUs',
          label: 'SOVEREIGN overhead (baseline: direct call)',
          unit: 'µs/call',
          better: 'lower',
        },
      ],
      rounds,
      targets: [
        {
          metric: 'simpleOverheadUs',
          kind: 'max',
          value: 50,
          description: 'SIMPLE adds under 50 µs per call',
        },
        {
          metric: 'sovereignOverheadUs',
          kind: 'max',
          value: 1000,
          description: 'SOVEREIGN (approval, sign, audit append) adds under 1 ms per call',
        },
      ],
      settings: { callsPerRound: CALLS, sovereignCallsPerRound: Math.ceil(CALLS / 8) },
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100
}

/** The `harness` bench scenario. */
export const harnessScenario: Scenario = {
  name: 'harness',
  description:
    'overhead of Harness.execute for a no-op tool vs calling the tool directly, SIMPLE and SOVEREIGN',
  run,
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await run({ rounds: 3, progress: (line) => console.log(line) })
  let ok = true
  for (const t of result.targets) {
    const values = result.rounds.map((r) => r.subject[t.metric] ?? NaN).sort((a, b) => a - b)
    const median = values[Math.floor(values.length / 2)] ?? NaN
    const pass = median < t.value
    ok &&= pass
    console.log(`${pass ? 'PASS' : 'FAIL'}: ${t.description} (median ${round(median)} µs)`)
  }
  process.exitCode = ok ? 0 : 1
}
