import { parseArgs } from 'node:util'
import { z } from 'zod'
import { Harness } from '../harness/harness.js'
import type { ToolSpec } from '../tools/tool.js'
import type { CliCommand } from './cli-command.js'
import { cliSetup, usage } from './cli-setup.js'

interface ArgInfo {
  name: string
  type: string
  required: boolean
  description?: string
}

/** The arguments of a tool, from its zod schema (as input: defaulted fields are optional). */
export function describeArgs(spec: ToolSpec): ArgInfo[] {
  let schema: { properties?: Record<string, Record<string, unknown>>; required?: string[] }
  try {
    schema = z.toJSONSchema(spec.args, { io: 'input', unrepresentable: 'any' }) as typeof schema
  } catch {
    return []
  }
  return Object.entries(schema.properties ?? {}).map(([name, p]) => {
    const type = Array.isArray(p.enum)
      ? p.enum.map((v) => JSON.stringify(v)).join('|')
      : typeof p.type === 'string'
        ? p.type === 'array' && p.items && typeof (p.items as { type?: unknown }).type === 'string'
          ? `${(p.items as { type: string }).type}[]`
          : p.type
        : 'any'
    const info: ArgInfo = { name, type, required: (schema.required ?? []).includes(name) }
    if (typeof p.description === 'string') info.description = p.description
    return info
  })
}

/** `uni-wizard tools`: every tool with its args and whether it reads or writes. */
export const toolsCommand: CliCommand = {
  name: 'tools',
  summary: 'list every tool with its arguments and whether it reads or writes',
  usage: `usage: uni-wizard tools [--json]

Lists the built-in and configured tools: name, read/write, category, default timeout, arguments
(name, type, required?). With --json, one array of objects.`,
  async run(argv) {
    const { values } = usage(() =>
      parseArgs({ args: argv, options: { json: { type: 'boolean', default: false } } }),
    )
    const setup = cliSetup({ useRedis: false })
    const tools = new Harness({ house: 'allegro', config: setup.config.file }).listTools()
    const rows = tools.map((t) => ({
      name: t.name,
      access: t.access,
      category: t.category,
      timeoutMs: t.timeoutMs,
      description: t.description,
      args: describeArgs(t),
    }))
    if (values.json) {
      console.log(JSON.stringify(rows, null, 2))
      return 0
    }
    if (rows.length === 0) {
      console.log('no tools registered')
      return 0
    }
    const width = Math.max(...rows.map((r) => r.name.length))
    for (const r of rows) {
      console.log(`${r.name.padEnd(width)}  ${r.access.padEnd(5)}  ${r.category.padEnd(7)}  ${r.description}`)
      for (const a of r.args) {
        console.log(
          `${''.padEnd(width)}    --arg ${a.name}=<${a.type}>${a.required ? '' : ' (optional)'}${a.description ? `  ${a.description}` : ''}`,
        )
      }
    }
    return 0
  },
}
