import { z } from 'zod'
import type { ToolSpec } from '../../tools/tool.js'
import type { AgentToolOffer } from '../agent-port.js'

/**
 * The JSON Schema a model is offered for a tool's arguments, from its zod `args`. It describes
 * the schema's input side (`io: 'input'`): a field with a default is optional, as `Harness.execute`
 * accepts it, and the arguments the model writes are handed to the harness as they are, where
 * the zod schema itself has the last word (refinements JSON Schema cannot say, like a custom
 * tool's pattern, are checked there).
 *
 * Regex `pattern`s are moved into the field's description instead of kept as keywords: llama.cpp
 * (and Ollama's native mode, which forwards tool schemas to it) compiles tool schemas into a
 * grammar and refuses the whole request when a pattern holds `\w`, `\d` or `\/`
 * (ggml-org/llama.cpp#27580, ollama/ollama#18226), as the gitea tools' `owner/name` pattern does.
 * The model still reads the rule; the harness still enforces it. The `$schema` key is left out.
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
  movePatterns(schema)
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

/** Replaces every `pattern` keyword (at any depth) by a sentence in that schema's description. */
function movePatterns(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) movePatterns(item)
    return
  }
  if (typeof node !== 'object' || node === null) return
  const schema = node as Record<string, unknown>
  if (typeof schema.pattern === 'string') {
    const rule = `Must match the regular expression ${schema.pattern}.`
    schema.description = typeof schema.description === 'string' ? `${schema.description} ${rule}` : rule
    delete schema.pattern
  }
  for (const [key, value] of Object.entries(schema)) if (!VALUE_KEYWORDS.has(key)) movePatterns(value)
}

/** Keywords whose value is data, not a schema: a `pattern` key there is left alone. */
const VALUE_KEYWORDS = new Set(['default', 'const', 'enum', 'examples'])
