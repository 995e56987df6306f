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
// Agents: the port, both backends, and one call that runs a task on a house's agent.
export type {
  AgentBackend,
  AgentEvent,
  AgentLimits,
  AgentOutcome,
  AgentRunContext,
  AgentTask,
} from './agents/agent-port.js'
export { HermesBackend, type HermesBackendOptions } from './agents/hermes/hermes-backend.js'
export { OpenAIBackend, type OpenAIBackendOptions } from './agents/openai/openai-backend.js'
export { runWithAgent, type AgentRunResult } from './workers/run-with-agent.js'
