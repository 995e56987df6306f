import { z } from 'zod'
import type { ToolSpec } from '../tool.js'
import { HttpHeaders, HttpUrl, httpEvidence, httpToolRequest } from './http-request.js'

export const HttpPostArgs = z
  .object({
    url: HttpUrl,
    headers: HttpHeaders,
    body: z
      .string()
      .max(4 * 1024 * 1024)
      .default(''),
    /** Sets Content-Type unless the headers do. */
    contentType: z.string().default('application/json'),
  })
  .strict()

/**
 * `http_post`: POST to a URL behind the SSRF guard. Evidence only for a 2xx answer: anything
 * else ends unverified under proof-required.
 *
 * @example
 *   await httpPost.run({ url: 'https://hooks.example.org/x', body: '{"ok":true}' }, ctx)
 */
export const httpPost: ToolSpec<typeof HttpPostArgs> = {
  name: 'http_post',
  category: 'network',
  description: 'POST to a URL behind the SSRF guard, capped; evidence is a 2xx status.',
  args: HttpPostArgs,
  access: 'write',
  timeoutMs: 20_000,
  target: (args) => `url:${args.url}`,
  run: (args, ctx) => {
    const hasType = Object.keys(args.headers).some((k) => k.toLowerCase() === 'content-type')
    const headers = hasType ? args.headers : { ...args.headers, 'content-type': args.contentType }
    return httpToolRequest(args.url, { method: 'POST', headers, body: args.body }, ctx)
  },
  async verify(_args, result) {
    const e = httpEvidence(result)
    const status = (result.data as { status: number }).status
    return status >= 200 && status < 300 ? e : undefined
  },
}
