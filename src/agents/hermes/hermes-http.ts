import type { z } from 'zod'
import { ErrorBody } from './hermes-wire.js'

/** An HTTP answer of the Hermes server, body read as text. */
export interface HermesAnswer {
  status: number
  headers: Headers
  text: string
}

/** The request never got an answer (refused, reset, timed out, aborted). */
export class HermesTransportError extends Error {
  constructor(
    message: string,
    readonly aborted: boolean,
  ) {
    super(message)
    this.name = 'HermesTransportError'
  }
}

/**
 * The Hermes API over fetch: the Bearer key on every request, a timeout per request, and every
 * text that leaves here (errors, server messages) scrubbed of the key.
 */
export class HermesHttp {
  constructor(
    readonly endpoint: URL,
    private readonly apiKey: string,
    private readonly timeoutMs: number,
  ) {}

  /** Replaces the API key wherever it appears (a server or a proxy echoing a header, say). */
  redact(text: string): string {
    return this.apiKey.length >= 4 ? text.split(this.apiKey).join('[redacted]') : text
  }

  url(path: string): string {
    return new URL(path.replace(/^\//, ''), this.endpoint).toString()
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { Authorization: `Bearer ${this.apiKey}`, Accept: 'application/json', ...extra }
  }

  /** One request with a timeout; the body read whole. Throws only `HermesTransportError`. */
  async request(
    method: 'GET' | 'POST',
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; signal: AbortSignal; auth?: boolean },
  ): Promise<HermesAnswer> {
    const signal = AbortSignal.any([options.signal, AbortSignal.timeout(this.timeoutMs)])
    const headers =
      options.auth === false
        ? { Accept: 'application/json', ...options.headers }
        : this.headers(options.headers)
    try {
      const response = await fetch(this.url(path), {
        method,
        headers: options.body === undefined ? headers : { ...headers, 'Content-Type': 'application/json' },
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        signal,
        redirect: 'manual',
      })
      return { status: response.status, headers: response.headers, text: await response.text() }
    } catch (err) {
      throw this.transportError(method, path, err, options.signal)
    }
  }

  /** Opens an event stream; the caller reads (and cancels) the body. */
  async stream(path: string, headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
    try {
      return await fetch(this.url(path), {
        headers: this.headers({ Accept: 'text/event-stream', ...headers }),
        signal,
        redirect: 'manual',
      })
    } catch (err) {
      throw this.transportError('GET', path, err, signal)
    }
  }

  transportError(method: string, path: string, err: unknown, signal: AbortSignal): HermesTransportError {
    const e = err as Error & { cause?: { code?: string; message?: string } }
    const why =
      e.name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : (e.cause?.code ?? e.message)
    return new HermesTransportError(this.redact(`${method} ${path}: ${why}`), signal.aborted)
  }
}

/** Parses a JSON body with a schema: the value, or a reason a person can read. */
export function parseBody<T extends z.ZodType>(
  schema: T,
  text: string,
): { ok: true; value: z.infer<T> } | { ok: false; reason: string } {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    return { ok: false, reason: `not JSON (${(err as Error).message}): ${JSON.stringify(text.slice(0, 80))}` }
  }
  const parsed = schema.safeParse(json)
  if (parsed.success) return { ok: true, value: parsed.data }
  const issue = parsed.error.issues[0]
  return {
    ok: false,
    reason: `unexpected shape at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
  }
}

/** The server's own words for an error answer: `HTTP 409 idempotency_key_conflict: message`. */
export function describeError(answer: HermesAnswer): string {
  const parsed = parseBody(ErrorBody, answer.text)
  if (!parsed.ok) return `HTTP ${answer.status}`
  const error = parsed.value.error
  if (typeof error === 'string') return `HTTP ${answer.status}: ${error}`
  const code = error.code ? ` ${error.code}` : ''
  return `HTTP ${answer.status}${code}${error.message ? `: ${error.message}` : ''}`
}

/** Retry-After in ms (seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterMs(headers: Headers, now: number): number | undefined {
  const value = headers.get('retry-after')?.trim()
  if (!value) return undefined
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}
