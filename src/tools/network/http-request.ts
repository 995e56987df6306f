import { z } from 'zod'
import { sha256Hex } from '../digest.js'
import { guardedFetch, type GuardedResponse } from '../ssrf.js'
import { toolsConfigOf } from '../tools-config.js'
import { ToolError, type Evidence, type ToolContext, type ToolRunResult } from '../tool.js'

export const HttpUrl = z.url({ protocol: /^https?$/ }).max(8192)
export const HttpHeaders = z
  .record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/), z.string().max(8192))
  .default({})

export interface HttpData {
  status: number
  url: string
  hops: string[]
  address: string
  bytes: number
  truncated: boolean
  sha256: string
  contentType: string | undefined
}

/** One guarded request as a tool result: 5xx and 429 are transient failures, other statuses are output. */
export async function httpToolRequest(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; maxBytes?: number },
  ctx: ToolContext,
): Promise<ToolRunResult> {
  const cfg = toolsConfigOf(ctx).http
  const r: GuardedResponse = await guardedFetch(url, {
    method: init.method,
    headers: init.headers,
    body: init.body,
    signal: ctx.signal,
    allowHosts: cfg.allowHosts,
    maxBytes: Math.min(init.maxBytes ?? Infinity, cfg.maxBytes),
    maxRedirects: cfg.maxRedirects,
    timeoutMs: cfg.timeoutMs,
  })
  if (r.status >= 500 || r.status === 429)
    throw new ToolError(`${init.method} ${r.url} answered ${r.status}`, true)
  const data: HttpData = {
    status: r.status,
    url: r.url,
    hops: r.hops,
    address: r.address,
    bytes: r.body.length,
    truncated: r.truncated,
    sha256: sha256Hex(r.body),
    contentType: typeof r.headers['content-type'] === 'string' ? r.headers['content-type'] : undefined,
  }
  const body = r.body.toString('utf8')
  return {
    output: `HTTP ${r.status} ${r.url}\n\n${body}${r.truncated ? `\n[cut at ${r.body.length} bytes]` : ''}`,
    data,
  }
}

/** Evidence of an HTTP exchange: status, final URL, body digest. */
export function httpEvidence(result: ToolRunResult): Evidence {
  const d = result.data as HttpData
  return { kind: 'http-status', summary: `HTTP ${d.status} from ${d.url}`, detail: { ...d } }
}
