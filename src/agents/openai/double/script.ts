import type { ChatCompletionRequest } from './chat-request.js'

/** Token counts a scripted response reports; `null` on the step leaves `usage` out of the response. */
export interface ScriptUsage {
  prompt_tokens: number
  completion_tokens: number
  /** Defaults to prompt + completion. */
  total_tokens?: number
}

/** One tool call the scripted model makes. `arguments` as a string is sent verbatim (bad JSON included). */
export interface ScriptToolCall {
  /** Defaults to `call_<n>`, unique within the double. */
  id?: string
  name: string
  arguments?: string | Record<string, unknown>
}

/** A turn in which the model calls tools (one or more), optionally with some text. */
export interface ToolCallStep {
  toolCalls: ScriptToolCall[]
  content?: string
  usage?: ScriptUsage | null
  /** The model name the response reports (default: the requested one). */
  model?: string
}

/** A turn in which the model answers; the loop ends there. */
export interface FinalStep {
  content: string
  usage?: ScriptUsage | null
  model?: string
  /** Default `stop`. */
  finishReason?: 'stop' | 'length' | 'content_filter'
}

export type ScriptStep = ToolCallStep | FinalStep

/**
 * What the double answers: a list played in order (one step per accepted request), or a function of
 * the request and its index among the accepted requests (0-based).
 *
 * @example
 *   const script: Script = [
 *     { toolCalls: [{ name: 'file_read', arguments: { path: 'README.md' } }] },
 *     { content: 'The README says hello.' },
 *   ]
 */
export type Script = readonly ScriptStep[] | ((request: ChatCompletionRequest, index: number) => ScriptStep)

/** Default usage of a scripted response: small, fixed numbers tests can add up. */
export const DEFAULT_SCRIPT_USAGE: ScriptUsage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }

export function isToolCallStep(step: ScriptStep): step is ToolCallStep {
  return 'toolCalls' in step
}
