import { customTool } from './custom/custom-tool.js'
import { builtinTools } from './builtin-tools.js'
import type { ToolSpec } from './tool.js'
import type { ToolsConfig } from './tools-config.js'

/**
 * Built-ins plus the custom tools of a config; a custom tool may not reuse a built-in's name.
 *
 * @example
 *   const tools = toolsFromConfig(ToolsConfig.parse(fileConfig.toolSettings ?? {}))
 */
export function toolsFromConfig(config: ToolsConfig): ToolSpec[] {
  const custom = config.customTools.map((def) => customTool(def))
  const names = new Set<string>()
  for (const t of [...builtinTools, ...custom]) {
    if (names.has(t.name)) throw new Error(`duplicate tool name: ${t.name}`)
    names.add(t.name)
  }
  return [...builtinTools, ...custom]
}
