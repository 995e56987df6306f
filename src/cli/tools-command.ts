import { describeTool } from '../tools/describe-tool.js'
import { builtinTools } from '../tools/index.js'
import type { ToolSpec } from '../tools/tool.js'
import { UsageError, type CliCommand } from './cli-command.js'

/**
 * `uni-wizard tools [--json]`: every tool with its args and whether it reads or writes.
 * `getTools` is where configured custom tools join the built-ins.
 *
 * @example
 *   makeToolsCommand(() => toolsFromConfig(config.file.toolSettings))
 */
export function makeToolsCommand(getTools: () => ToolSpec[]): CliCommand {
  return {
    name: 'tools',
    summary: 'List every tool with its args and whether it reads or writes',
    usage:
      'usage: uni-wizard tools [--json]\n\nLists built-in and configured tools: name, read/write, timeout, args.',
    async run(argv) {
      const unknown = argv.filter((a) => a !== '--json')
      if (unknown.length > 0) throw new UsageError(`unknown option ${unknown[0]}`)
      const tools = getTools().map(describeTool)
      if (argv.includes('--json')) {
        console.log(JSON.stringify(tools, null, 2))
        return 0
      }
      for (const t of tools) {
        console.log(`${t.name}  [${t.category}, ${t.access}, ${t.timeoutMs / 1000}s]  ${t.description}`)
        for (const a of t.args) {
          const def = a.default !== undefined ? ` = ${JSON.stringify(a.default)}` : ''
          console.log(`    ${a.name}${a.required ? '' : '?'}: ${a.type}${def}`)
        }
      }
      return 0
    },
  }
}

/** The `tools` command over the built-in tools. */
export const toolsCommand: CliCommand = makeToolsCommand(() => builtinTools)
