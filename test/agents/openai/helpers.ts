import type {
  AgentEvent,
  AgentLimits,
  AgentRunContext,
  AgentTask,
  AgentToolOffer,
  AgentToolOutcome,
} from '../../../src/agents/agent-port.js'

export interface ToolCallSeen {
  name: string
  args: unknown
  signal: AbortSignal
}

/** A run context that records events and tool calls; `execute` answers the calls (default: echo). */
export function fakeContext(
  options: {
    tools?: AgentToolOffer[]
    execute?: (name: string, args: unknown, signal: AbortSignal) => Promise<AgentToolOutcome>
    signal?: AbortSignal
  } = {},
) {
  const events: AgentEvent[] = []
  const calls: ToolCallSeen[] = []
  const ctx: AgentRunContext = {
    signal: options.signal ?? new AbortController().signal,
    onEvent: async (event) => {
      events.push(event)
    },
    askApproval: async () => 'deny',
    tools: options.tools ?? [offer('file_read'), offer('file_list')],
    executeTool: async (name, args, signal) => {
      calls.push({ name, args, signal })
      return options.execute
        ? options.execute(name, args, signal)
        : { status: 'success', content: `${name} ran with ${JSON.stringify(args)}` }
    },
  }
  return { ctx, events, calls }
}

export function offer(name: string): AgentToolOffer {
  return {
    name,
    description: `the ${name} tool`,
    parameters: { type: 'object', properties: { path: { type: 'string' } }, additionalProperties: false },
  }
}

export function task(limits: Partial<AgentLimits> = {}, extra: Partial<AgentTask> = {}): AgentTask {
  return {
    key: 'job-1:1',
    instructions: 'You are Ezra. Read, never write.',
    input: 'What does README.md say?',
    limits: { maxTurns: 10, wallMs: 30_000, maxTokens: 100_000, ...limits },
    ...extra,
  }
}
