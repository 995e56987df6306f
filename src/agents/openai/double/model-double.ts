import { Hono, type Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { checkChatRequest, type ChatCompletionRequest, type ChatMessage } from './chat-request.js'
import { ModelFaults, type ModelFault } from './model-faults.js'
import {
  DEFAULT_SCRIPT_USAGE,
  isToolCallStep,
  type Script,
  type ScriptStep,
  type ScriptUsage,
} from './script.js'

/** Response header asking the double's transport to drop the connection (the `network` fault). */
export const MODEL_NETWORK_FAULT_HEADER = 'x-model-double-network-fault'

export interface ModelDoubleOptions {
  /** When set, every request needs `Authorization: Bearer <apiKey>` (401 otherwise). Ollama-like when unset. */
  apiKey?: string
  /** What `GET /v1/models` lists (default `['double-model']`). The double answers any requested model. */
  models?: string[]
  script?: Script
  /** Requests kept in the log, the oldest dropped first (default 1000: the sandbox runs for days). */
  logLimit?: number
}

/** One request the double answered, for tests to assert on. It never holds the Authorization header. */
export interface LoggedModelRequest {
  method: string
  path: string
  status: number
  /** Whether the request carried the right bearer token (always true when no key is configured). */
  authorized: boolean
  /** The parsed body, when it was a valid chat completions request. */
  request?: ChatCompletionRequest
  /** `request.messages`, or empty. */
  messages: ChatMessage[]
  /** The fault applied, if any. */
  fault?: ModelFault
}

type Env = { Variables: { entry: LoggedModelRequest } }
type C = Context<Env>

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * A scripted OpenAI-compatible chat completions server: it validates requests as OpenAI does and
 * answers each accepted one with the next step of its script (tool calls, then a final message).
 * Faults (429 with Retry-After, 5xx, malformed bodies, slow answers, dropped connections) come
 * before the script. Serve it with `startModelDouble`, or call `fetch` directly.
 *
 * @example
 *   const double = new ModelDouble({ apiKey: 'sk-test', script: [
 *     { toolCalls: [{ name: 'git_status', arguments: {} }] },
 *     { content: 'Clean tree.' },
 *   ] })
 *   double.faults.add({ status: 429, retryAfter: 1 })
 */
export class ModelDouble {
  readonly requests: LoggedModelRequest[] = []
  readonly faults = new ModelFaults()
  readonly app: Hono<Env>
  private script: Script
  private step = 0
  private callCounter = 0
  private completionCounter = 0

  constructor(private readonly options: ModelDoubleOptions = {}) {
    this.script = options.script ?? []
    this.app = this.createApp()
  }

  /** Replaces the script and starts it from its first step. */
  setScript(script: Script): void {
    this.script = script
    this.step = 0
  }

  /** Accepted chat requests so far (the ones that consumed a script step or found none). */
  get chatRequests(): ChatCompletionRequest[] {
    return this.requests.flatMap((r) => (r.request && r.status === 200 ? [r.request] : []))
  }

  fetch = (request: Request): Response | Promise<Response> => this.app.fetch(request)

  private createApp(): Hono<Env> {
    const app = new Hono<Env>()
    const fail = (
      c: C,
      status: ContentfulStatusCode,
      error: { message: string; type: string; code?: string; param?: string | null },
      headers: Record<string, string> = {},
    ) => c.json({ error: { param: null, code: null, ...error } }, status, headers)

    app.use('*', async (c, next) => {
      const entry: LoggedModelRequest = {
        method: c.req.method,
        path: new URL(c.req.url).pathname,
        status: 0,
        authorized: this.authorized(c.req.header('authorization')),
        messages: [],
      }
      c.set('entry', entry)
      this.requests.push(entry)
      const over = this.requests.length - (this.options.logLimit ?? 1000)
      if (over > 0) this.requests.splice(0, over)
      if (!entry.authorized) {
        // OpenAI names no part of a wrong key that the caller did not already know.
        c.res = fail(c, 401, {
          message: 'Incorrect API key provided.',
          type: 'invalid_request_error',
          code: 'invalid_api_key',
        })
      } else {
        await next()
      }
      entry.status = c.res.status
    })

    app.get('/v1/models', (c) =>
      c.json({
        object: 'list',
        data: (this.options.models ?? ['double-model']).map((id) => ({
          id,
          object: 'model',
          created: 1_700_000_000,
          owned_by: 'uni-wizard-double',
        })),
      }),
    )

    app.post('/v1/chat/completions', async (c) => {
      const entry = c.get('entry')
      const fault = this.faults.take()
      if (fault) entry.fault = fault
      if (fault?.delayMs) await sleep(fault.delayMs)
      if (fault?.network)
        return new Response(null, { status: 502, headers: { [MODEL_NETWORK_FAULT_HEADER]: '1' } })
      if (fault?.status !== undefined) {
        const headers: Record<string, string> =
          fault.retryAfter === undefined ? {} : { 'Retry-After': String(fault.retryAfter) }
        return fail(c, fault.status as ContentfulStatusCode, faultError(fault.status, fault.message), headers)
      }

      let body: unknown
      try {
        body = JSON.parse(await c.req.text())
      } catch {
        return fail(c, 400, {
          message: 'We could not parse the JSON body of your request.',
          type: 'invalid_request_error',
        })
      }
      const checked = checkChatRequest(body)
      if (!('ok' in checked)) return fail(c, 400, { ...checked, type: 'invalid_request_error' })
      const request = checked.request
      entry.request = request
      entry.messages = request.messages

      if (fault?.malformed === 'json')
        return c.body('{"id": "chatcmpl-broken", "choices": [', 200, { 'content-type': 'application/json' })
      if (fault?.malformed === 'shape')
        return c.json({ id: 'chatcmpl-broken', object: 'chat.completion', choices: 'none' })

      const index = this.step++
      let step: ScriptStep | undefined
      try {
        step = typeof this.script === 'function' ? this.script(request, index) : this.script[index]
      } catch (err) {
        return fail(c, 500, {
          message: `the model double's script failed: ${(err as Error).message}`,
          type: 'server_error',
        })
      }
      if (!step)
        return fail(c, 500, {
          message: `the model double's script has no step ${index}`,
          type: 'server_error',
        })
      return c.json(this.completion(request, step))
    })

    app.all('*', (c) =>
      fail(c, 404, {
        message: `Unknown request URL: ${c.req.method} ${new URL(c.req.url).pathname}.`,
        type: 'invalid_request_error',
        code: 'unknown_url',
      }),
    )
    return app
  }

  private authorized(header: string | undefined): boolean {
    if (this.options.apiKey === undefined) return true
    return header === `Bearer ${this.options.apiKey}`
  }

  private completion(request: ChatCompletionRequest, step: ScriptStep): Record<string, unknown> {
    const toolCalls = isToolCallStep(step)
      ? step.toolCalls.map((call) => ({
          id: call.id ?? `call_${++this.callCounter}`,
          type: 'function',
          function: {
            name: call.name,
            arguments:
              typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? {}),
          },
        }))
      : undefined
    const content = isToolCallStep(step) ? (step.content ?? null) : step.content
    const finishReason = isToolCallStep(step) ? 'tool_calls' : (step.finishReason ?? 'stop')
    const usage = step.usage === null ? undefined : usageOf(step.usage ?? DEFAULT_SCRIPT_USAGE)
    return {
      id: `chatcmpl-double-${++this.completionCounter}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: step.model ?? request.model,
      system_fingerprint: 'fp_uni_wizard_double',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content,
            refusal: null,
            ...(toolCalls ? { tool_calls: toolCalls } : {}),
          },
          logprobs: null,
          finish_reason: finishReason,
        },
      ],
      ...(usage ? { usage } : {}),
    }
  }
}

function faultError(status: number, message: string | undefined): { message: string; type: string } {
  if (status === 429)
    return { message: message ?? 'Rate limit reached, retry later.', type: 'rate_limit_exceeded' }
  if (status >= 500) {
    return {
      message: message ?? 'The server had an error while processing your request.',
      type: 'server_error',
    }
  }
  return { message: message ?? `injected fault ${status}`, type: 'invalid_request_error' }
}

function usageOf(u: ScriptUsage): Required<ScriptUsage> {
  return { ...u, total_tokens: u.total_tokens ?? u.prompt_tokens + u.completion_tokens }
}
