// The registry a Harness uses when none is given: the built-in catalogue. Custom tools from the
// config join it through `toolsFromConfig(config.file.toolSettings)` (the CLI and the worker pass that).
export { builtinTools as defaultTools } from '../tools/builtin-tools.js'
