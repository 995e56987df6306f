import type { AgentRunContext, AgentToolOutcome } from '../agent-port.js'
import { scrub } from './scrub.js'

/** A tool call as the model made it (arguments raw: a JSON string, or an object some servers send). */
export interface ModelToolCall {
  id: string
  name: string
  arguments: string | Record<string, unknown> | null | undefined
}

export interface ToolCallDeps {
  ctx: AgentRunContext
  /** Names of the tools offered to the model: nothing else is run. */
  offered: ReadonlySet<string>
  /** The run's signal for tools: cancel or the wall-time limit. */
  signal: AbortSignal
  now(): number
  apiKey?: string
}

/** What the model is told, and whether `executeTool` threw (a worker bug the run fails on). */
export interface ToolCallResult extends AgentToolOutcome {
  thrown?: string
}

const PREVIEW_CHARS = 200

/**
 * Runs one tool call of the model through `ctx.executeTool`, between a `tool.started` and a
 * `tool.finished` event. Arguments that are not JSON and names that were not offered are
 * answered to the model as failures (it may correct itself), without running anything.
 * An empty arguments string means no arguments (`{}`), as some servers send for tools without any.
 */
export async function runToolCall(call: ModelToolCall, deps: ToolCallDeps): Promise<ToolCallResult> {
  const { ctx, now } = deps
  const started = now()
  const raw = typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? {})
  await ctx.onEvent({
    kind: 'tool.started',
    at: started,
    callId: call.id,
    tool: call.name,
    args: scrub(raw, deps.apiKey, PREVIEW_CHARS),
  })
  const result = await execute(call, deps)
  await ctx.onEvent({
    kind: 'tool.finished',
    at: now(),
    callId: call.id,
    tool: call.name,
    status: result.status,
    summary: scrub(result.content.split('\n', 1)[0] ?? '', deps.apiKey, PREVIEW_CHARS),
    durationMs: Math.max(0, now() - started),
  })
  return result
}

async function execute(call: ModelToolCall, deps: ToolCallDeps): Promise<ToolCallResult> {
  if (!deps.offered.has(call.name)) {
    const names = [...deps.offered].join(', ') || 'none'
    return {
      status: 'failure',
      content: `error: there is no tool named ${call.name}; the tools are: ${names}`,
    }
  }
  const args = parseArguments(call.arguments)
  if ('error' in args) {
    return {
      status: 'failure',
      content: `error: the arguments of ${call.name} are not valid JSON (${args.error}); call it again with a JSON object that matches its parameters`,
    }
  }
  try {
    return await deps.ctx.executeTool(call.name, args.value, deps.signal)
  } catch (err) {
    if (deps.signal.aborted) return { status: 'cancelled', content: 'the tool call was stopped' }
    const reason = scrub(`the tool call ${call.name} could not run: ${(err as Error).message}`, deps.apiKey)
    return { status: 'failure', content: `error: ${reason}`, thrown: reason }
  }
}

function parseArguments(raw: ModelToolCall['arguments']): { value: unknown } | { error: string } {
  if (raw === null || raw === undefined) return { value: {} }
  if (typeof raw !== 'string') return { value: raw }
  if (raw.trim() === '') return { value: {} }
  try {
    return { value: JSON.parse(raw) }
  } catch (err) {
    return { error: (err as Error).message }
  }
}
