import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import contractJson from './gitea-contract.v1.26.3.json' with { type: 'json' }

// ajv-formats ships CommonJS; under NodeNext its default export is the module object.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default

interface SwaggerParameter {
  name: string
  in: 'path' | 'query' | 'body' | 'header' | 'formData'
  type?: string
  enum?: unknown[]
  required?: boolean
  schema?: unknown
  items?: unknown
}

interface SwaggerOperation {
  method: string
  path: string
  operationId: string
  parameters?: SwaggerParameter[]
  responses: Record<string, { $ref?: string; schema?: unknown }>
}

interface ContractFile {
  version: string
  basePath: string
  allOperations: Record<string, string>
  operations: Record<string, SwaggerOperation>
  definitions: Record<string, unknown>
  responses: Record<string, { schema?: unknown }>
  nullable: Record<string, string[]>
  differencesFrom1_23_1: {
    operations: { operationId: string; difference: string }[]
    definitions: { definition: string; added: string[]; removed: string[] }[]
  }
}

const contract = contractJson as unknown as ContractFile

export interface ContractViolation {
  direction: 'request' | 'response'
  method: string
  path: string
  operationId: string | undefined
  status?: number
  message: string
}

export interface ContractRequest {
  method: string
  /** Path with or without the /api/v1 base. */
  path: string
  query: URLSearchParams
  contentType: string | null
  /** Raw body text; undefined when the request had none. */
  body: string | undefined
}

export interface ContractResponse {
  method: string
  path: string
  status: number
  contentType: string | null
  body: string
}

/**
 * Statuses Gitea's middleware can answer on any operation although its swagger lists them
 * per operation only sometimes: no or bad token (401), token scope (403), unknown repo (404),
 * wrong method (405), rate limiting and server trouble (429, 5xx). 422 comes from the JSON
 * binding of any operation that takes a body.
 */
const MIDDLEWARE_STATUSES = new Set([401, 403, 404, 405, 429, 500, 502, 503, 504])

/**
 * Fields real Gitea sends that its swagger omits. User's MarshalJSON adds `username`
 * (modules/structs/user.go) for GitHub compatibility.
 */
const UNDOCUMENTED_FIELDS: Record<string, Record<string, unknown>> = {
  User: { username: { type: 'string' } },
}

/** Swagger 2.0 formats Gitea uses that are not JSON-schema formats: they constrain nothing here. */
const SWAGGER_ONLY_FORMATS = ['int64', 'int32', 'uint64', 'float', 'double', 'byte', 'binary', 'password']

interface CompiledOperation {
  op: SwaggerOperation
  pattern: RegExp
  pathParams: string[]
  body: ValidateFunction | undefined
  responses: Map<number, ValidateFunction | null>
}

/**
 * Validates traffic against Gitea 1.26.3's swagger (Swagger 2.0, $refs resolved): the
 * operation must exist, the request body must match its schema, the response status must be
 * declared for the operation and the response body must match the declared schema.
 * Response objects are closed (a field Gitea never sends is a violation); fields Go can
 * marshal as null (pointers, slices, maps) accept null.
 *
 * @example
 *   const check = GiteaContract.load()
 *   check.checkResponse({ method: 'GET', path: '/api/v1/user', status: 200, contentType: 'application/json', body })
 */
export class GiteaContract {
  readonly version = contract.version
  private readonly compiled: CompiledOperation[]
  private readonly known: { method: string; pattern: RegExp; operationId: string }[]

  private constructor() {
    const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: true })
    addFormats(ajv)
    for (const format of SWAGGER_ONLY_FORMATS) ajv.addFormat(format, true)
    // Gitea accepts single-label domains (user@localhost); ajv-formats' email would not.
    ajv.addFormat('email', /^[^\s@]+@[^\s@]+$/)
    ajv.addSchema({ $id: 'req', definitions: closeDefinitions(contract.definitions, true) })
    ajv.addSchema({ $id: 'res', definitions: closeDefinitions(contract.definitions, true) })
    this.compiled = Object.values(contract.operations).map((op) => {
      const { pattern, params } = templateToRegExp(op.path)
      const bodyParam = op.parameters?.find((p) => p.in === 'body')
      const responses = new Map<number, ValidateFunction | null>()
      for (const [status, response] of Object.entries(op.responses)) {
        const schema = response.$ref
          ? contract.responses[response.$ref.split('/').pop() ?? '']?.schema
          : response.schema
        responses.set(Number(status), schema ? ajv.compile(rebase(schema, 'res')) : null)
      }
      return {
        op,
        pattern,
        pathParams: params,
        body: bodyParam?.schema ? ajv.compile(rebase(bodyParam.schema, 'req')) : undefined,
        responses,
      }
    })
    this.known = Object.entries(contract.allOperations).map(([key, operationId]) => {
      const [method = '', path = ''] = key.split(' ')
      return { method, pattern: templateToRegExp(path).pattern, operationId }
    })
  }

  private static instance: GiteaContract | undefined

  /** Compiles the schemas once per process (a few ms) and shares them. */
  static load(): GiteaContract {
    GiteaContract.instance ??= new GiteaContract()
    return GiteaContract.instance
  }

  /** What changed between 1.23.1 (gitea-js 1.23.0's source) and 1.26.3 for the served operations. */
  static differencesFrom1_23_1(): ContractFile['differencesFrom1_23_1'] {
    return contract.differencesFrom1_23_1
  }

  /** The operationId Gitea 1.26.3 has for this method and path, served or not. */
  operationIdOf(method: string, path: string): string | undefined {
    const p = stripBase(path)
    return this.known.find((k) => k.method === method.toUpperCase() && k.pattern.test(p))?.operationId
  }

  checkRequest(req: ContractRequest): ContractViolation[] {
    const path = stripBase(req.path)
    const found = this.find(req.method, path)
    const base = { direction: 'request' as const, method: req.method.toUpperCase(), path }
    if (!found) {
      const other = this.operationIdOf(req.method, path)
      return [
        {
          ...base,
          operationId: other,
          message: other ? `${other} is not served by the double` : 'no such operation in Gitea 1.26.3',
        },
      ]
    }
    const { compiled, params } = found
    const violations: ContractViolation[] = []
    const add = (message: string) =>
      violations.push({ ...base, operationId: compiled.op.operationId, message })
    for (const param of compiled.op.parameters ?? []) {
      if (param.in === 'path') {
        const value = params[param.name]
        if (param.type === 'integer' && !/^-?\d+$/.test(value ?? ''))
          add(`path parameter ${param.name} must be an integer, got "${value}"`)
      }
      if (param.in === 'query') {
        const values = req.query.getAll(param.name)
        if (values.length === 0) continue
        for (const value of values) {
          if (param.type === 'integer' && !/^-?\d+$/.test(value))
            add(`query ${param.name} must be an integer, got "${value}"`)
          if (param.type === 'boolean' && !['true', 'false'].includes(value))
            add(`query ${param.name} must be a boolean`)
          if (param.enum && !param.enum.includes(value))
            add(`query ${param.name} must be one of ${param.enum.join('|')}, got "${value}"`)
        }
      }
    }
    const declared = new Set(
      (compiled.op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
    )
    for (const name of new Set(req.query.keys())) {
      if (!declared.has(name)) add(`query parameter ${name} is not declared`)
    }
    const hasBody = req.body !== undefined && req.body !== ''
    if (compiled.body) {
      if (!hasBody) {
        if ((compiled.op.parameters ?? []).some((p) => p.in === 'body' && p.required))
          add('request body is required')
      } else if (!req.contentType?.includes('application/json')) {
        add(`request content type must be application/json, got ${req.contentType ?? 'none'}`)
      } else {
        const json = parseJson(req.body ?? '')
        if (json === PARSE_ERROR) add('request body is not JSON')
        else if (!compiled.body(json)) add(`request body: ${describe(compiled.body.errors)}`)
      }
    } else if (hasBody) {
      add('operation takes no request body')
    }
    return violations
  }

  checkResponse(res: ContractResponse): ContractViolation[] {
    const path = stripBase(res.path)
    const found = this.find(res.method, path)
    if (!found) return []
    const { compiled } = found
    const base = {
      direction: 'response' as const,
      method: res.method.toUpperCase(),
      path,
      operationId: compiled.op.operationId,
      status: res.status,
    }
    const takesBody = (compiled.op.parameters ?? []).some((p) => p.in === 'body')
    if (!compiled.responses.has(res.status)) {
      if (MIDDLEWARE_STATUSES.has(res.status) || (res.status === 422 && takesBody)) return []
      return [
        {
          ...base,
          message: `status ${res.status} is not declared (declared: ${[...compiled.responses.keys()].join(', ')})`,
        },
      ]
    }
    const validate = compiled.responses.get(res.status)
    if (!validate) {
      if (res.status === 204 && res.body !== '') return [{ ...base, message: '204 must have an empty body' }]
      return []
    }
    if (!res.contentType?.includes('application/json')) {
      return [{ ...base, message: `response content type must be JSON, got ${res.contentType ?? 'none'}` }]
    }
    const json = parseJson(res.body)
    if (json === PARSE_ERROR) return [{ ...base, message: 'response body is not JSON' }]
    if (!validate(json)) return [{ ...base, message: `response body: ${describe(validate.errors)}` }]
    return []
  }

  private find(
    method: string,
    path: string,
  ): { compiled: CompiledOperation; params: Record<string, string> } | undefined {
    for (const compiled of this.compiled) {
      if (compiled.op.method !== method.toUpperCase()) continue
      const match = compiled.pattern.exec(path)
      if (!match) continue
      const params: Record<string, string> = {}
      compiled.pathParams.forEach((name, i) => (params[name] = decodeURIComponent(match[i + 1] ?? '')))
      return { compiled, params }
    }
    return undefined
  }
}

const PARSE_ERROR = Symbol('parse error')

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return PARSE_ERROR
  }
}

function stripBase(path: string): string {
  const p = path.split('?')[0] ?? path
  return p.startsWith(contract.basePath) ? p.slice(contract.basePath.length) : p
}

function templateToRegExp(template: string): { pattern: RegExp; params: string[] } {
  const params: string[] = []
  const source = template
    .split('/')
    .map((segment) => {
      const m = /^\{(.+)\}$/.exec(segment)
      if (!m) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      params.push(m[1] ?? '')
      return '([^/]+)'
    })
    .join('/')
  return { pattern: new RegExp(`^${source}$`), params }
}

function describe(errors: ErrorObject[] | null | undefined): string {
  const e = errors?.[0]
  if (!e) return 'invalid'
  const extra = e.keyword === 'additionalProperties' ? ` (${String(e.params.additionalProperty)})` : ''
  return `${e.instancePath || '(root)'} ${e.message ?? 'invalid'}${extra}`
}

/** Points `#/definitions/X` refs at one of the two registered definition sets. */
function rebase(schema: unknown, id: 'req' | 'res'): object {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/definitions/', `"${id}#/definitions/`)) as object
}

/**
 * Swagger 2.0 → JSON schema: `type: file` becomes anything, Go-nullable fields accept null,
 * and in responses objects are closed so an invented field is caught.
 */
function closeDefinitions(definitions: Record<string, unknown>, closed: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, raw] of Object.entries(definitions)) {
    const def = structuredClone(raw) as Record<string, unknown>
    const props = def.properties as Record<string, Record<string, unknown>> | undefined
    if (props) {
      Object.assign(props, UNDOCUMENTED_FIELDS[name])
      for (const field of contract.nullable[name] ?? []) {
        const prop = props[field]
        if (prop) props[field] = { anyOf: [prop, { type: 'null' }] }
      }
      if (closed && def.additionalProperties === undefined) def.additionalProperties = false
    }
    out[name] = JSON.parse(JSON.stringify(def).replaceAll('{"type":"file"}', '{}')) as unknown
  }
  return out
}
