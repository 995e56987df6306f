// The library face of uni-wizard: `import { Harness, House, Mode } from 'uni-wizard'`.
export * from './harness/index.js'
export * from './houses/index.js'
export * from './provenance/index.js'
export * from './intelligence/index.js'
export {
  ToolError,
  type Evidence,
  type ToolContext,
  type ToolFault,
  type ToolRunResult,
  type ToolSpec,
} from './tools/tool.js'
