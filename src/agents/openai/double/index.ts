// The scripted OpenAI-compatible model double (docs/AGENTS.md, "OpenAI-compatible backend").
export { ChatCompletionRequest, ChatMessage, checkChatRequest, type RequestProblem } from './chat-request.js'
export { ModelFaults, type ModelFault } from './model-faults.js'
export {
  MODEL_NETWORK_FAULT_HEADER,
  ModelDouble,
  type LoggedModelRequest,
  type ModelDoubleOptions,
} from './model-double.js'
export {
  DEFAULT_SCRIPT_USAGE,
  isToolCallStep,
  type FinalStep,
  type Script,
  type ScriptStep,
  type ScriptToolCall,
  type ScriptUsage,
  type ToolCallStep,
} from './script.js'
export {
  startModelDouble,
  type RunningModelDouble,
  type StartModelDoubleOptions,
} from './start-model-double.js'
