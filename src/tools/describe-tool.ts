import { z } from 'zod'
import type { ToolSpec } from './tool.js'

export interface ToolArgDescription {
  name: string
  type: string
  required: boolean
  default?: unknown
  description?: string
}

export interface ToolDescription {
  name: string
  category: string
  access: 'read' | 'write'
  timeoutMs: number
  description: string
  args: ToolArgDescription[]
}

interface JsonSchemaNode {
  type?: string | string[]
  enum?: unknown[]
  items?: JsonSchemaNode
  anyOf?: JsonSchemaNode[]
  default?: unknown
  description?: string
  properties?: Record<string, JsonSchemaNode>
  required?: string[]
}

function typeName(s: JsonSchemaNode): string {
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join('|')
  if (s.anyOf) return s.anyOf.map(typeName).join('|')
  if (s.type === 'array') {
    const item = s.items ? typeName(s.items) : 'any'
    return item.includes('|') ? `(${item})[]` : `${item}[]`
  }
  if (Array.isArray(s.type)) return s.type.join('|')
  return s.type ?? 'any'
}

/**
 * A plain description of a tool and its args (from the zod schema's input side), for
 * `uni-wizard tools`, help texts and docs.
 *
 * @example
 *   describeTool(gitStatus).args // [{ name: 'repoPath', type: 'string', required: true }]
 */
export function describeTool(tool: ToolSpec): ToolDescription {
  const schema = z.toJSONSchema(tool.args, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode
  const required = new Set(schema.required ?? [])
  const args = Object.entries(schema.properties ?? {}).map(([name, p]) => ({
    name,
    type: typeName(p),
    required: required.has(name) && p.default === undefined,
    ...(p.default !== undefined ? { default: p.default } : {}),
    ...(p.description ? { description: p.description } : {}),
  }))
  return {
    name: tool.name,
    category: tool.category,
    access: tool.access,
    timeoutMs: tool.timeoutMs,
    description: tool.description,
    args,
  }
}
