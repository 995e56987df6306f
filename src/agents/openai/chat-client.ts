import { z } from 'zod'
import { ChatCompletion, ErrorBody, ModelList, type WireMessage } from './chat-completion.js'
import { retryAfterMs } from './retry-after.js'
import { scrub } from './scrub.js'

export interface RetryOptions {
  /** Requests per model turn, the first included (default 4). */
  attempts: number
  /** First backoff when the server gives no Retry-After; doubled per attempt (default 1 s). */
  baseDelayMs: number
  /** Cap of that backoff (default 15 s). A Retry-After is honoured as given, within the wall time. */
  maxDelayMs: number
}

export interface ChatClientOptions {
  /** The API root, e.g. `http://localhost:11434/v1`. */
  baseUrl: string
  apiKey?: string
  requestTimeoutMs: number
  retry: RetryOptions
  sleep(ms: number, signal: AbortSignal): Promise<void>
  now(): number
}

export interface ChatRequest {
  model: string
  messages: readonly WireMessage[]
  tools?: readonly {
    type: 'function'
    function: { name: string; description: string; parameters: unknown }
  }[]
}

/** How one model turn went: a completion, or why there is none (`wall`: the deadline passed). */
export type ChatResult =
  | { ok: true; completion: ChatCompletion }
  | { ok: false; stop: 'cancelled' | 'wall' | 'failed'; reason: string }

type Attempt = ChatResult | { ok: false; stop: 'retry'; reason: string; retryAfterMs?: number }

/** How much of a server's own words a reason quotes. */
const REASON_CHARS = 500

/** A health check answers quickly or not at all. */
const HEALTH_TIMEOUT_MS = 10_000

const RETRY_STATUSES = new Set([408, 409, 429, 500, 502, 503, 504])

/**
 * The HTTP side of the loop: one chat completion per call, retried on 408/409/429/5xx, network
 * errors and request timeouts with a capped exponential backoff that a Retry-After overrides,
 * never past the run's deadline. The API key goes only into the Authorization header; every
 * reason it returns is scrubbed of it.
 */
export class ChatClient {
  private readonly baseUrl: string

  constructor(private readonly options: ChatClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '')
  }

  /** One model turn. `deadline` is in the clock of `now()`; `signal` is the run's cancel signal. */
  async complete(body: ChatRequest, signal: AbortSignal, deadline: number): Promise<ChatResult> {
    const { attempts, baseDelayMs, maxDelayMs } = this.options.retry
    for (let attempt = 1; ; attempt++) {
      const result = await this.attempt(body, signal, deadline)
      if (result.ok || result.stop !== 'retry') return result
      if (attempt >= attempts)
        return { ok: false, stop: 'failed', reason: `${result.reason} (after ${attempt} attempts)` }
      const delay = result.retryAfterMs ?? Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1))
      if (this.options.now() + delay >= deadline) {
        return {
          ok: false,
          stop: 'failed',
          reason: `${result.reason}; waiting ${Math.ceil(delay / 1000)} s to retry would pass the run's wall-time limit`,
        }
      }
      try {
        await this.options.sleep(delay, signal)
      } catch {
        // Only an abort rejects the sleep.
      }
      if (signal.aborted) return { ok: false, stop: 'cancelled', reason: 'cancelled' }
    }
  }

  /** `GET /models`: the ids the endpoint offers (at most 10 s, or the request timeout when shorter). */
  async models(signal?: AbortSignal): Promise<{ ok: true; ids: string[] } | { ok: false; reason: string }> {
    const limitMs = Math.min(this.options.requestTimeoutMs, HEALTH_TIMEOUT_MS)
    const timeout = AbortSignal.timeout(limitMs)
    try {
      const res = await fetch(`${this.baseUrl}/models`, {
        headers: this.headers(),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      })
      const text = await res.text()
      if (!res.ok) return { ok: false, reason: this.refusal(res.status, text) }
      const list = ModelList.safeParse(safeJson(text))
      if (!list.success) return { ok: false, reason: 'GET /models did not answer a model list' }
      return { ok: true, ids: list.data.data.map((m) => m.id) }
    } catch (err) {
      if (timeout.aborted)
        return { ok: false, reason: `GET /models did not answer within ${limitMs / 1000} s` }
      return { ok: false, reason: this.networkReason(err, false) }
    }
  }

  private async attempt(body: ChatRequest, signal: AbortSignal, deadline: number): Promise<Attempt> {
    if (signal.aborted) return { ok: false, stop: 'cancelled', reason: 'cancelled' }
    const remaining = deadline - this.options.now()
    if (remaining <= 0) return { ok: false, stop: 'wall', reason: 'the wall-time limit passed' }
    const bounded = remaining < this.options.requestTimeoutMs
    const timeout = AbortSignal.timeout(Math.min(remaining, this.options.requestTimeoutMs))
    let status: number
    let text: string
    let retryAfter: string | null
    try {
      const res = await fetch(`${this.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: { ...this.headers(), 'content-type': 'application/json' },
        body: JSON.stringify({ ...body, stream: false }),
        signal: AbortSignal.any([signal, timeout]),
      })
      status = res.status
      retryAfter = res.headers.get('retry-after')
      text = await res.text()
    } catch (err) {
      if (signal.aborted) return { ok: false, stop: 'cancelled', reason: 'cancelled' }
      if (timeout.aborted && bounded) return { ok: false, stop: 'wall', reason: 'the wall-time limit passed' }
      return { ok: false, stop: 'retry', reason: this.networkReason(err, timeout.aborted) }
    }
    if (RETRY_STATUSES.has(status)) {
      return {
        ok: false,
        stop: 'retry',
        reason: this.refusal(status, text),
        retryAfterMs: retryAfterMs(retryAfter, Date.now()),
      }
    }
    if (status !== 200) return { ok: false, stop: 'failed', reason: this.refusal(status, text) }
    const json = safeJson(text)
    if (json === undefined) {
      return {
        ok: false,
        stop: 'failed',
        reason: 'the model endpoint answered 200 with a body that is not JSON',
      }
    }
    const parsed = ChatCompletion.safeParse(json)
    if (!parsed.success) {
      return {
        ok: false,
        stop: 'failed',
        reason: scrub(
          `the model endpoint answered 200 with a body that is not a chat completion: ${z.prettifyError(parsed.error)}`,
          this.options.apiKey,
          REASON_CHARS,
        ),
      }
    }
    return { ok: true, completion: parsed.data }
  }

  private headers(): Record<string, string> {
    return this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}
  }

  /** Why the server said no, in its own words when it gave an OpenAI error body. */
  private refusal(status: number, text: string): string {
    const body = ErrorBody.safeParse(safeJson(text))
    const said = body.success
      ? typeof body.data.error === 'string'
        ? body.data.error
        : body.data.error.message
      : ''
    const hint =
      status === 401 || status === 403
        ? ' (check the API key the house names; the key itself is never shown)'
        : status === 404
          ? ` (is ${this.baseUrl} the API root, ending in /v1, and the model name right?)`
          : ''
    return scrub(
      `the model endpoint answered ${status}${said ? `: ${said}` : ''}${hint}`,
      this.options.apiKey,
    )
  }

  private networkReason(err: unknown, timedOut: boolean): string {
    if (timedOut)
      return `the model endpoint did not answer within ${Math.round(this.options.requestTimeoutMs / 1000)} s`
    const cause = (err as { cause?: { code?: string; message?: string } }).cause
    const detail = cause?.code ?? cause?.message ?? (err as Error).message
    return scrub(
      `cannot reach the model endpoint ${this.baseUrl} (${detail})`,
      this.options.apiKey,
      REASON_CHARS,
    )
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
