import { randomBytes } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import type {
  AgentBackend,
  AgentEvent,
  AgentOutcome,
  AgentRunContext,
  AgentTask,
  AgentUsage,
} from '../agent-port.js'
import type { ChatCompletion, WireMessage, WireToolCall } from './chat-completion.js'
import { ChatClient, type ChatRequest, type RetryOptions } from './chat-client.js'
import { runToolCall } from './run-tool-call.js'
import { scrub } from './scrub.js'

export interface OpenAIBackendOptions {
  /** The API root, ending in `/v1`: `http://localhost:11434/v1` (Ollama), `http://localhost:8080/v1` (llama.cpp). */
  baseUrl: string
  /** Sent as `Authorization: Bearer …` when set; Ollama and a local llama.cpp need none. */
  apiKey?: string
  /** The model when the task names none. */
  model: string
  /** One model request's time limit (default 120 s); a timed-out request is retried. */
  requestTimeoutMs?: number
  retry?: Partial<RetryOptions>
  /** Injectable for tests: waits `ms` or rejects when `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>
  /** Injectable clock (epoch ms), for event times and the wall-time limit. */
  now?: () => number
}

/** setTimeout fires at once beyond this (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1

const DEFAULT_RETRY: RetryOptions = { attempts: 4, baseDelayMs: 1000, maxDelayMs: 15_000 }

/**
 * The OpenAI-compatible backend: runs the tool-calling loop here. The task's instructions go as
 * the system message and its input as the user message; `ctx.tools` are offered as functions;
 * every call the model makes runs through `ctx.executeTool` (the harness, under the house policy)
 * and its result goes back as a tool message, until the model answers without calling a tool or
 * a limit (turns, wall time, tokens) stops the run.
 *
 * @example
 *   const backend = new OpenAIBackend({ baseUrl: 'http://localhost:11434/v1', model: 'qwen2.5-coder:7b' })
 *   const outcome = await backend.run(task, ctx) // { status: 'completed', answer, usage, turns, runId: 'loop_…' }
 */
export class OpenAIBackend implements AgentBackend {
  readonly kind = 'openai' as const
  private readonly client: ChatClient
  private readonly now: () => number

  constructor(private readonly options: OpenAIBackendOptions) {
    const url = new URL(options.baseUrl)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`the openai backend's baseUrl must be http(s), not ${url.protocol}`)
    }
    this.now = options.now ?? Date.now
    this.client = new ChatClient({
      baseUrl: options.baseUrl,
      apiKey: options.apiKey,
      requestTimeoutMs: options.requestTimeoutMs ?? 120_000,
      retry: { ...DEFAULT_RETRY, ...options.retry },
      sleep: options.sleep ?? ((ms, signal) => delay(ms, undefined, { signal })),
      now: this.now,
    })
  }

  async run(task: AgentTask, ctx: AgentRunContext): Promise<AgentOutcome> {
    return new LoopRun(this.options, this.client, this.now, task, ctx).run()
  }

  async health(signal?: AbortSignal): Promise<{ ok: boolean; detail?: string }> {
    const models = await this.client.models(signal)
    if (!models.ok) return { ok: false, detail: models.reason }
    if (!models.ids.includes(this.options.model)) {
      // LiteLLM and vLLM aliases may answer for a model they do not list: a hint, not a failure.
      return { ok: true, detail: `the endpoint answers but does not list model ${this.options.model}` }
    }
    return { ok: true, detail: `model ${this.options.model} listed` }
  }
}

/** One run of the loop: its messages, usage and limits. */
class LoopRun {
  private readonly runId = `loop_${randomBytes(8).toString('hex')}`
  private readonly model: string
  private readonly messages: WireMessage[]
  private readonly offered: Set<string>
  private readonly tools: ChatRequest['tools']
  private usage: AgentUsage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 }
  private turns = 0
  private reportedModel: string | undefined
  private lastText: string | undefined
  private readonly started: number
  private readonly deadline: number

  constructor(
    private readonly options: OpenAIBackendOptions,
    private readonly client: ChatClient,
    private readonly now: () => number,
    private readonly task: AgentTask,
    private readonly ctx: AgentRunContext,
  ) {
    this.model = task.model ?? options.model
    this.messages = [
      { role: 'system', content: task.instructions },
      { role: 'user', content: task.input },
    ]
    this.offered = new Set(ctx.tools.map((t) => t.name))
    this.tools =
      ctx.tools.length === 0
        ? undefined
        : ctx.tools.map((t) => ({
            type: 'function' as const,
            function: { name: t.name, description: t.description, parameters: t.parameters },
          }))
    this.started = now()
    this.deadline = this.started + task.limits.wallMs
  }

  async run(): Promise<AgentOutcome> {
    await this.emit({ kind: 'run.started', at: this.started, runId: this.runId })
    // Tools stop on cancel and when the wall time runs out; the model request has its own bounds.
    const wall = new AbortController()
    const wallTimer = setTimeout(
      () => wall.abort(),
      Math.min(MAX_TIMER_MS, Math.max(0, this.task.limits.wallMs)),
    )
    const toolSignal = AbortSignal.any([this.ctx.signal, wall.signal])
    try {
      return await this.loop(toolSignal)
    } finally {
      clearTimeout(wallTimer)
    }
  }

  private async loop(toolSignal: AbortSignal): Promise<AgentOutcome> {
    const { limits } = this.task
    for (;;) {
      if (this.ctx.signal.aborted) return this.end('cancelled', 'the run was cancelled')
      if (this.turns >= limits.maxTurns) return this.turnLimit()
      if (this.now() >= this.deadline) return this.wallLimit()

      const result = await this.client.complete(
        { model: this.model, messages: this.messages, tools: this.tools },
        this.ctx.signal,
        this.deadline,
      )
      if (!result.ok) {
        if (result.stop === 'cancelled') return this.end('cancelled', 'the run was cancelled')
        if (result.stop === 'wall') return this.wallLimit()
        return this.end('failed', result.reason)
      }
      this.turns++
      const reply = await this.take(result.completion)

      if (reply.toolCalls.length === 0) {
        await this.emit({ kind: 'message', at: this.now(), text: reply.text, final: true })
        return this.end('completed', undefined, reply.text)
      }
      if (reply.text) await this.emit({ kind: 'message', at: this.now(), text: reply.text })
      // The model's calls would only be answered on a turn it may not take: stop before running them.
      if (this.usage.totalTokens > limits.maxTokens) return this.tokenLimit()
      if (this.turns >= limits.maxTurns) return this.turnLimit()

      this.messages.push({ role: 'assistant', content: reply.text || null, tool_calls: reply.toolCalls })
      for (const call of reply.toolCalls) {
        const outcome = await runToolCall(
          { id: call.id, name: call.function.name, arguments: reply.rawArguments.get(call.id) },
          {
            ctx: this.ctx,
            offered: this.offered,
            signal: toolSignal,
            now: this.now,
            apiKey: this.options.apiKey,
          },
        )
        if (this.ctx.signal.aborted) return this.end('cancelled', 'the run was cancelled')
        if (outcome.thrown) return this.end('failed', outcome.thrown)
        if (toolSignal.aborted || this.now() >= this.deadline) return this.wallLimit()
        this.messages.push({ role: 'tool', tool_call_id: call.id, content: outcome.content })
      }
    }
  }

  /** Reads a completion: counts its usage (and reports it), keeps its text, threads its tool calls. */
  private async take(completion: ChatCompletion) {
    const choice = completion.choices[0] as ChatCompletion['choices'][number]
    const u = completion.usage
    const input = u?.prompt_tokens ?? 0
    const output = u?.completion_tokens ?? 0
    const total = u?.total_tokens ?? input + output
    this.usage = {
      inputTokens: this.usage.inputTokens + input,
      outputTokens: this.usage.outputTokens + output,
      totalTokens: this.usage.totalTokens + total,
    }
    await this.emit({ kind: 'usage', at: this.now(), usage: { ...this.usage } })
    if (completion.model) this.reportedModel = completion.model

    // The text goes into events and the outcome: scrubbed like every other string the run hands out.
    const text = scrub(choice.message.content ?? '', this.options.apiKey)
    if (text) this.lastText = text
    const rawArguments = new Map<string, string | Record<string, unknown> | null | undefined>()
    const toolCalls: WireToolCall[] = (choice.message.tool_calls ?? []).map((call, i) => {
      // Some servers leave the id out; the loop names the call so its result threads back to it.
      const id = call.id || `call_${this.turns}_${i}`
      rawArguments.set(id, call.function.arguments)
      const args = call.function.arguments
      return {
        id,
        type: 'function',
        function: {
          name: call.function.name,
          arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}),
        },
      }
    })
    return { text, toolCalls, rawArguments }
  }

  private turnLimit(): AgentOutcome {
    return this.end(
      'limit',
      `the run reached its turn limit (maxTurns ${this.task.limits.maxTurns}) before the model answered`,
    )
  }

  private wallLimit(): AgentOutcome {
    return this.end(
      'limit',
      `the run reached its wall-time limit (wallMs ${this.task.limits.wallMs}) before the model answered`,
    )
  }

  private tokenLimit(): AgentOutcome {
    return this.end(
      'limit',
      `the run reached its token limit (maxTokens ${this.task.limits.maxTokens}; ${this.usage.totalTokens} used) before the model answered`,
    )
  }

  private end(status: AgentOutcome['status'], error?: string, answer?: string): AgentOutcome {
    return {
      status,
      answer: answer ?? this.lastText,
      ...(error === undefined ? {} : { error: scrub(error, this.options.apiKey, 2000) }),
      runId: this.runId,
      model: this.reportedModel ?? this.model,
      usage: { ...this.usage },
      turns: this.turns,
    }
  }

  private emit(event: AgentEvent): Promise<void> {
    return this.ctx.onEvent(event)
  }
}
