import { z } from 'zod'
import type { ToolSpec } from '../tool.js'
import { HttpHeaders, HttpUrl, httpEvidence, httpToolRequest } from './http-request.js'

export const HttpGetArgs = z
  .object({ url: HttpUrl, headers: HttpHeaders, maxBytes: z.number().int().positive().optional() })
  .strict()

/**
 * `http_get`: GET a URL behind the SSRF guard (private, loopback, link-local and metadata
 * addresses refused unless allowlisted; every redirect re-checked), with time and size caps.
 *
 * @example
 *   await httpGet.run({ url: 'https://example.org/status.json' }, ctx)
 */
export const httpGet: ToolSpec<typeof HttpGetArgs> = {
  name: 'http_get',
  category: 'network',
  description: 'GET a URL behind the SSRF guard (private addresses refused unless allowlisted), capped.',
  args: HttpGetArgs,
  access: 'read',
  timeoutMs: 20_000,
  target: (args) => `url:${args.url}`,
  run: (args, ctx) =>
    httpToolRequest(args.url, { method: 'GET', headers: args.headers, maxBytes: args.maxBytes }, ctx),
  async verify(_args, result) {
    return httpEvidence(result)
  },
}
