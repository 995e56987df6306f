import { readFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import { parseArgs } from 'node:util'
import { Harness } from '../harness/harness.js'
import { ModeName } from '../harness/mode.js'
import { Approval } from '../harness/approvals/approval.js'
import { resolveHouses } from '../houses/house-policy.js'
import type { ToolResult } from '../harness/tool-result.js'
import type { ToolSpec } from '../tools/tool.js'
import { UsageError, type CliCommand } from './cli-command.js'
import { cliSetup, usage } from './cli-setup.js'

const RUN_USAGE = `usage: uni-wizard run <tool> --house <house> [options]

Runs one tool through the harness under the house's policy and prints the result.

options:
  --house <h>            house to run as (timmy, ezra, bezalel, allegro, or a configured one)
  --mode <m>             simple | intelligent | sovereign (default: the house's mode)
  --arg k=v              a tool argument; repeat for more (values that are JSON numbers,
                         booleans, arrays or objects are used as such when the tool wants them)
  --args <json>          all arguments as one JSON object
  --as <login>           who is asking (default: your user name)
  --approval <file>      an approval from \`uni-wizard approve\` (SOVEREIGN / approval-required)
  --sign                 sign the result and append it to the audit log in any mode
  --json                 print the whole ToolResult as JSON

exit: 0 success, 1 failure/unverified/denied/timeout/cancelled, 2 usage

example:
  uni-wizard run git_status --house bezalel --arg repoPath=/srv/repos/app`

const TEST_USAGE = `usage: uni-wizard test --house <house> --tool <tool> [options]

The seed design's spelling of \`uni-wizard run <tool> --house <house>\`; takes the same options.

example:
  uni-wizard test --house timmy --tool git_status --arg repoPath=.`

const APPROVE_USAGE = `usage: uni-wizard approve <tool> --approver <login> [--house <h>] [--arg k=v ...] [--ttl <minutes>]

Attests an approval of one exact call in house <h> (default timmy) with the router key of the
key directory (_router.key, created on first use; never a house key) and prints it as JSON, for
\`uni-wizard run … --house <h> --approval <file>\`. The run checks it with the router's public
key and its own house's sovereigns.

example:
  uni-wizard approve git_push --approver alice --house bezalel --arg repoPath=/srv/app > approval.json`

/** Parses `--arg k=v` pairs: strings first; JSON values when the tool's schema wants them. */
export function buildArgs(spec: ToolSpec | undefined, pairs: readonly string[], json?: string): unknown {
  let base: Record<string, unknown> = {}
  if (json !== undefined) {
    try {
      base = JSON.parse(json) as Record<string, unknown>
    } catch {
      throw new UsageError('--args must be a JSON object')
    }
    if (base === null || typeof base !== 'object' || Array.isArray(base))
      throw new UsageError('--args must be a JSON object')
  }
  const strings: Record<string, unknown> = { ...base }
  const typed: Record<string, unknown> = { ...base }
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new UsageError(`--arg needs key=value, got "${pair}"`)
    const key = pair.slice(0, eq)
    const value = pair.slice(eq + 1)
    strings[key] = value
    try {
      typed[key] = JSON.parse(value)
    } catch {
      typed[key] = value
    }
  }
  if (!spec || spec.args.safeParse(strings).success) return strings
  return typed
}

function parseRun(argv: string[], toolFromFlag: boolean) {
  const { values, positionals } = usage(() =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        house: { type: 'string' },
        tool: { type: 'string' },
        mode: { type: 'string' },
        arg: { type: 'string', multiple: true, default: [] },
        args: { type: 'string' },
        as: { type: 'string' },
        approval: { type: 'string' },
        sign: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
    }),
  )
  const tool = toolFromFlag ? values.tool : positionals[0]
  if (!tool) throw new UsageError(toolFromFlag ? '--tool is required' : 'name the tool to run')
  if (positionals.length > (toolFromFlag ? 0 : 1))
    throw new UsageError(`unexpected argument "${positionals.at(-1)}"`)
  if (!values.house) throw new UsageError('--house is required')
  return { ...values, tool, house: values.house }
}

function printResult(r: ToolResult, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(r, null, 2))
    return
  }
  const attempts = `${r.attempts} attempt${r.attempts === 1 ? '' : 's'}`
  console.log(
    `${r.status}: ${r.tool} in house ${r.house} (${r.mode}, ${attempts}, ${Math.round(r.durationMs)} ms)`,
  )
  if (r.output) console.log(r.output.replace(/\n$/, ''))
  if (r.evidence) console.log(`evidence: ${r.evidence.kind}: ${r.evidence.summary}`)
  for (const note of r.notes) console.log(`note: ${note}`)
  if (r.provenance.audit) console.log(`audit: entry ${r.provenance.audit.seq} ${r.provenance.audit.digest}`)
  if (r.error)
    console.error(`${r.error.rule}: ${r.error.reason}${r.error.fix ? ` (fix: ${r.error.fix})` : ''}`)
}

async function runTool(argv: string[], toolFromFlag: boolean): Promise<number> {
  const opts = parseRun(argv, toolFromFlag)
  const mode = opts.mode === undefined ? undefined : ModeName.safeParse(opts.mode)
  if (mode && !mode.success) throw new UsageError(`--mode must be simple, intelligent or sovereign`)
  const setup = cliSetup({ useRedis: true })
  try {
    const houses = resolveHouses(setup.config.file.houses)
    if (!houses[opts.house]) {
      throw new UsageError(`unknown house "${opts.house}" (known: ${Object.keys(houses).join(', ')})`)
    }
    let approval: Approval | undefined
    if (opts.approval) {
      const parsed = Approval.safeParse(JSON.parse(readFileSync(opts.approval, 'utf8')))
      if (!parsed.success) throw new UsageError(`${opts.approval} is not an approval`)
      approval = parsed.data
    }
    const harness = new Harness({
      house: opts.house,
      mode: mode?.data,
      config: setup.config.file,
      tools: setup.tools,
      context: { toolConfig: setup.toolConfig },
      redis: setup.redis,
      keyDir: setup.keyDir,
      auditPath: setup.auditPath,
      secrets: setup.secrets,
      sign: opts.sign,
    })
    const spec = harness.listTools().find((t) => t.name === opts.tool)
    const args = buildArgs(spec, opts.arg, opts.args)
    const result = await harness.execute(opts.tool, args, {
      requestedBy: opts.as ?? userInfo().username,
      approval,
    })
    await harness.close()
    printResult(result, opts.json)
    return result.status === 'success' ? 0 : 1
  } finally {
    await setup.close()
  }
}

/** `uni-wizard run <tool> --house <h>`. */
export const runCommand: CliCommand = {
  name: 'run',
  summary: 'run one tool through the harness under a house policy',
  usage: RUN_USAGE,
  run: (argv) => runTool(argv, false),
}

/** `uni-wizard test --house <h> --tool <t>`. */
export const testCommand: CliCommand = {
  name: 'test',
  summary: 'same as run, spelled `test --house <h> --tool <t>`',
  usage: TEST_USAGE,
  run: (argv) => runTool(argv, true),
}

/** `uni-wizard approve <tool> --approver <login>`. */
export const approveCommand: CliCommand = {
  name: 'approve',
  summary: 'sign an approval of one exact tool call',
  usage: APPROVE_USAGE,
  async run(argv) {
    const { values, positionals } = usage(() =>
      parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          approver: { type: 'string' },
          house: { type: 'string', default: 'timmy' },
          arg: { type: 'string', multiple: true, default: [] },
          args: { type: 'string' },
          ttl: { type: 'string', default: '60' },
        },
      }),
    )
    const tool = positionals[0]
    if (!tool) throw new UsageError('name the tool to approve')
    if (!values.approver) throw new UsageError('--approver is required')
    const minutes = Number(values.ttl)
    if (!Number.isFinite(minutes) || minutes <= 0)
      throw new UsageError('--ttl must be a positive number of minutes')
    const setup = cliSetup({ useRedis: false })
    if (!resolveHouses(setup.config.file.houses)[values.house])
      throw new UsageError(`unknown house "${values.house}"`)
    const harness = new Harness({
      house: values.house,
      config: setup.config.file,
      tools: setup.tools,
      keyDir: setup.keyDir,
    })
    const spec = harness.listTools().find((t) => t.name === tool)
    if (!spec) throw new UsageError(`unknown tool "${tool}"`)
    const args = buildArgs(spec, values.arg, values.args)
    const parsed = spec.args.safeParse(args)
    if (!parsed.success) throw new UsageError(`bad arguments for ${tool}: ${parsed.error.issues[0]?.message}`)
    console.log(
      JSON.stringify(
        harness.approve(tool, args, { approver: values.approver, ttlMs: minutes * 60_000 }),
        null,
        2,
      ),
    )
    return 0
  },
}
