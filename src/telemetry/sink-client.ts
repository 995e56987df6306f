import type { Secret } from '../config/secret.js'
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
 * names the status and the start of the sink's answer, never the request.
 *
 * @example
 *   const send = httpSink({ url: 'https://timmy.example/telemetry', token, timeoutMs: 5000 })
 *   const r = await send(batch, AbortSignal.timeout(60_000))
 */
export function httpSink(opts: { url: string; token: Secret; timeoutMs: number }): SendBatch {
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
        reason: `HTTP ${res.status}${text ? `: ${text.slice(0, REASON_CHARS)}` : ''}`,
        ...(after !== undefined ? { retryAfterMs: after } : {}),
      }
    } catch (err) {
      if (timeout.aborted && !signal.aborted)
        return { ok: false, kind: 'timeout', reason: `no answer within ${opts.timeoutMs} ms` }
      const cause = (err as { cause?: { code?: string; message?: string } }).cause
      return {
        ok: false,
        kind: 'network',
        reason: cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err)),
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
