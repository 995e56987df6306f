import { z } from 'zod'

/** A tool call as the loop sends it back to the model (OpenAI's wire shape). */
export interface WireToolCall {
  id: string
  type: 'function'
  function: { name: string; arguments: string }
}

/** The messages the loop sends. */
export type WireMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: WireToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string }

const Count = z.number().int().nonnegative().nullish()

/**
 * A chat completion as OpenAI-compatible servers send it, parsed tolerantly: extra keys pass,
 * `content` may be null beside tool calls, usage may be missing (zeros then), a tool call without
 * an id gets one from the loop, and `arguments` may be an object (some servers send one) or
 * missing (as `{}`).
 */
export const ChatCompletion = z.object({
  id: z.string().nullish(),
  model: z.string().nullish(),
  choices: z
    .array(
      z.object({
        message: z.object({
          content: z.string().nullish(),
          tool_calls: z
            .array(
              z.object({
                id: z.string().nullish(),
                function: z.object({
                  name: z.string().min(1),
                  arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).nullish(),
                }),
              }),
            )
            .nullish(),
        }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1, 'no choices'),
  usage: z.object({ prompt_tokens: Count, completion_tokens: Count, total_tokens: Count }).nullish(),
})
export type ChatCompletion = z.infer<typeof ChatCompletion>

/** `GET /v1/models`: only the ids are read. */
export const ModelList = z.object({ data: z.array(z.object({ id: z.string() })) })

/** An OpenAI-style error body; its message is shown (scrubbed of the key) when a request is refused. */
export const ErrorBody = z.object({
  error: z.union([z.object({ message: z.string() }), z.string()]),
})
