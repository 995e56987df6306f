import type { ToolSpec } from '../tools/tool.js'

/**
 * The registry a Harness uses when none is given. It becomes the built-in catalogue when the tools
 * module lands — the one line to change:
 *   export { builtinTools as defaultTools } from '../tools/index.js'
 */
export const defaultTools: readonly ToolSpec[] = []
