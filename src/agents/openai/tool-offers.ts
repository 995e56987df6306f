import { z } from 'zod'
import type { ToolSpec } from '../../tools/tool.js'
import type { AgentToolOffer } from '../agent-port.js'

/**
 * The JSON Schema a model is offered for a tool's arguments, from its zod `args`. It describes
 * the schema's input side (`io: 'input'`): a field with a default is optional, as `Harness.execute`
 * accepts it, and the arguments the model writes are handed to the harness as they are, where
 * the zod schema itself has the last word (refinements JSON Schema cannot say, like a custom
 * tool's pattern, are checked there). The `$schema` key is left out: some servers (llama.cpp's
 * grammar converter among them) reject keys they do not know.
 *
 * @example
 *   argsJsonSchema(fileRead.args)
 *   // { type: 'object', properties: { path: { type: 'string', … } }, required: ['path'], additionalProperties: false }
 */
export function argsJsonSchema(args: z.ZodType): Record<string, unknown> {
  const schema = z.toJSONSchema(args, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-2020-12',
  }) as Record<string, unknown>
  delete schema.$schema
  // A function's parameters must be an object schema (OpenAI refuses anything else).
  if (schema.type !== 'object')
    throw new TypeError('tool args must be a zod object to be offered as a function')
  return schema
}

/**
 * What the openai loop offers the model for these tools (the house's allowed ones).
 *
 * @example
 *   const tools = toolOffers(harness.listTools().filter(allowedForHouse))
 */
export function toolOffers(specs: readonly ToolSpec[]): AgentToolOffer[] {
  return specs.map((spec) => {
    try {
      return { name: spec.name, description: spec.description, parameters: argsJsonSchema(spec.args) }
    } catch (err) {
      throw new TypeError(`tool ${spec.name}: ${(err as Error).message}`, { cause: err })
    }
  })
}
