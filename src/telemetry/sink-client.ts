import type { Secret } from '../config/secret.js'
import { createRedactor, REDACTED } from '../harness/redactor.js'
import type { SinkBatch } from './sink-batch.js'

/**
 * Why a POST failed, as the forwarder treats it: `network` (refused, reset, DNS), `timeout`,
 * `server` (5xx, 408, 429: retried with backoff), `rejected` (another 4xx: retried slowly,
 * logged as an error), `fenced` (409: another forwarder holds a newer lease).
 */
export type SinkErrorKind = 'network' | 'timeout' | 'server' | 'rejected' | 'fenced'

export type SendResult =
  { ok: true } | { ok: false; kind: SinkErrorKind; status?: number; reason: string; retryAfterMs?: number }

/** How the forwarder reaches the sink; the HTTP one below, or a test's. */
export type SendBatch = (batch: SinkBatch, signal: AbortSignal) => Promise<SendResult>

const REASON_CHARS = 200

/** `Bearer <value>` anywhere (the redactor hides it only after an `Authorization` key). */
const BEARER = /\b(bearer\s+)(?!\[redacted\])[^\s"',;]+/gi

/**
 * The start of a sink's error answer, safe to log: a sink or a proxy may echo the request's
 * headers, so the token (also encoded, or any 12 of its characters in a row), any `Bearer …`
 * value and the redactor's credential patterns are hidden before the text is cut, so no part of
 * a token survives at the cut either.
 *
 * @example
 *   sinkErrorText('{"authorization":"Bearer s3cret-token-0123456789"}', createRedactor(['s3cret-token-0123456789']))
 *   // '{"authorization":"Bearer [redacted]"}'
 */
export function sinkErrorText(text: string, redact: (text: string) => string): string {
  // Scrub a window past the cut (long enough for a whole token), not a body of any size.
  const clean = redact(text.slice(0, REASON_CHARS * 4)).replace(BEARER, `$1${REDACTED}`)
  return clean.slice(0, REASON_CHARS)
}

function retryAfter(header: string | null): number | undefined {
  if (!header) return undefined
  const s = Number(header)
  if (Number.isFinite(s) && s >= 0) return s * 1000
  const at = Date.parse(header)
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now())
}

function kindOf(status: number): SinkErrorKind {
  if (status === 409) return 'fenced'
  if (status >= 500 || status === 408 || status === 429) return 'server'
  return 'rejected'
}

/**
 * The HTTP sink: `POST <url>` with the batch as JSON and `Authorization: Bearer <token>`. A 2xx
 * acknowledges the whole batch. The token is only ever put in that header; a failure's reason
 * names the status and the start of the sink's answer with the token scrubbed (`sinkErrorText`).
 *
 * @example
 *   const send = httpSink({ url: 'https://timmy.example/telemetry', token, timeoutMs: 5000 })
 *   const r = await send(batch, AbortSignal.timeout(60_000))
 */
export function httpSink(opts: { url: string; token: Secret; timeoutMs: number }): SendBatch {
  const redact = createRedactor([opts.token.reveal()])
  return async (batch, signal) => {
    const timeout = AbortSignal.timeout(opts.timeoutMs)
    try {
      const res = await fetch(opts.url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${opts.token.reveal()}`,
          'content-type': 'application/json',
          'user-agent': 'uni-wizard-telemetry',
        },
        body: JSON.stringify(batch),
        signal: AbortSignal.any([signal, timeout]),
      })
      const text = await res.text().catch(() => '')
      if (res.ok) return { ok: true }
      const after = retryAfter(res.headers.get('retry-after'))
      return {
        ok: false,
        kind: kindOf(res.status),
        status: res.status,
        reason: `HTTP ${res.status}${text ? `: ${sinkErrorText(text, redact)}` : ''}`,
        ...(after !== undefined ? { retryAfterMs: after } : {}),
      }
    } catch (err) {
      if (timeout.aborted && !signal.aborted)
        return { ok: false, kind: 'timeout', reason: `no answer within ${opts.timeoutMs} ms` }
      const cause = (err as { cause?: { code?: string; message?: string } }).cause
      return {
        ok: false,
        kind: 'network',
        reason: sinkErrorText(
          cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err)),
          redact,
        ),
      }
    }
  }
}

/**
 * The sink's URL as status lines and logs show it: scheme, host, port and path (no query, which
 * might carry a key, and never credentials).
 *
 * @example
 *   shownSinkUrl('https://timmy.example/telemetry?key=x') // 'https://timmy.example/telemetry'
 */
export function shownSinkUrl(url: string): string {
  const u = new URL(url)
  return `${u.protocol}//${u.host}${u.pathname}`
}
