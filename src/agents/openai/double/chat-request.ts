import { z } from 'zod'

/** OpenAI's rule for function names (`tools[].function.name`). */
const FunctionName = z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must match ^[a-zA-Z0-9_-]{1,64}$')

/** Text content: a string, or OpenAI's array of text parts. */
const Content = z.union([
  z.string(),
  z.array(z.object({ type: z.literal('text'), text: z.string() }).loose()).min(1),
])

const ToolCall = z
  .object({
    id: z.string().min(1),
    type: z.literal('function'),
    function: z.object({ name: FunctionName, arguments: z.string() }).loose(),
  })
  .loose()

const SystemMessage = z
  .object({ role: z.literal('system'), content: Content, name: z.string().optional() })
  .loose()
const UserMessage = z
  .object({ role: z.literal('user'), content: Content, name: z.string().optional() })
  .loose()
const AssistantMessage = z
  .object({
    role: z.literal('assistant'),
    content: Content.nullish(),
    tool_calls: z.array(ToolCall).min(1).optional(),
    name: z.string().optional(),
  })
  .loose()
  .refine((m) => (m.content !== undefined && m.content !== null) || m.tool_calls !== undefined, {
    message: "an assistant message needs 'content' or 'tool_calls'",
  })
const ToolMessage = z
  .object({ role: z.literal('tool'), content: Content, tool_call_id: z.string().min(1) })
  .loose()

/** One message of a chat completions request, as OpenAI accepts it (the roles the loop uses). */
export const ChatMessage = z.discriminatedUnion('role', [
  SystemMessage,
  UserMessage,
  AssistantMessage,
  ToolMessage,
])
export type ChatMessage = z.infer<typeof ChatMessage>

const FunctionTool = z
  .object({
    type: z.literal('function'),
    function: z
      .object({
        name: FunctionName,
        description: z.string().optional(),
        parameters: z.record(z.string(), z.unknown()).optional(),
        strict: z.boolean().nullish(),
      })
      .loose(),
  })
  .loose()

/**
 * The body of `POST /v1/chat/completions` the double accepts: what OpenAI validates for the
 * fields the loop sends. Unknown keys pass (OpenAI ignores or validates them elsewhere).
 */
export const ChatCompletionRequest = z
  .object({
    model: z.string().min(1),
    messages: z.array(ChatMessage).min(1),
    tools: z.array(FunctionTool).max(128).optional(),
    tool_choice: z.unknown().optional(),
    stream: z.boolean().nullish(),
    max_tokens: z.number().int().positive().nullish(),
    max_completion_tokens: z.number().int().positive().nullish(),
    temperature: z.number().min(0).max(2).nullish(),
  })
  .loose()
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>

/** An OpenAI-style 400: what was wrong and where (`param` as OpenAI writes it, e.g. `messages.[2].role`). */
export interface RequestProblem {
  message: string
  param: string | null
}

/**
 * Checks a parsed body the way OpenAI does: the schema, then the threading of tool calls (every
 * assistant `tool_calls` answered by tool messages right after it, every tool message answering one).
 */
export function checkChatRequest(
  body: unknown,
): { ok: true; request: ChatCompletionRequest } | RequestProblem {
  const parsed = ChatCompletionRequest.safeParse(body)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const param = issue ? paramOf(issue.path) : null
    return { message: issue ? `Invalid value for '${param}': ${issue.message}` : 'Invalid body', param }
  }
  const request = parsed.data
  if (request.stream) return { message: 'this double does not stream; send stream: false', param: 'stream' }
  const problem = checkThreading(request.messages)
  return problem ?? { ok: true, request }
}

function checkThreading(messages: readonly ChatMessage[]): RequestProblem | undefined {
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as ChatMessage
    if (m.role === 'tool') {
      return {
        message: `Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.`,
        param: `messages.[${i}].role`,
      }
    }
    if (m.role !== 'assistant' || !m.tool_calls) continue
    const open = new Set(m.tool_calls.map((c) => c.id))
    let j = i + 1
    for (; j < messages.length; j++) {
      const next = messages[j] as ChatMessage
      if (next.role !== 'tool') break
      if (!open.delete(next.tool_call_id)) {
        return {
          message: `Invalid parameter: 'tool_call_id' of '${next.tool_call_id}' not found in 'tool_calls' of previous message.`,
          param: `messages.[${j}].tool_call_id`,
        }
      }
    }
    if (open.size > 0) {
      return {
        message: `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...open].join(', ')}`,
        param: `messages.[${i}].role`,
      }
    }
    i = j - 1
  }
  return undefined
}

function paramOf(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.')
}
