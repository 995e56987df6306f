import { connect } from 'node:net'
import { z } from 'zod'
import { guardedFetch, resolveChecked } from '../ssrf.js'
import { toolsConfigOf, type HealthEndpoint } from '../tools-config.js'
import { ToolError, type ToolSpec } from '../tool.js'

const Target = z.union([
  z.object({ url: z.url({ protocol: /^https?$/ }), expectStatus: z.number().int().optional() }).strict(),
  z.object({ host: z.string().min(1).max(253), port: z.number().int().min(1).max(65535) }).strict(),
])

export const HealthCheckArgs = z
  .object({
    /** Names of configured endpoints to check; all configured ones when neither this nor targets is given. */
    names: z.array(z.string()).optional(),
    /** Ad-hoc targets; these go through the SSRF guard (toolSettings.http.allowHosts). */
    targets: z.array(Target).max(20).optional(),
    /** Per-check timeout. */
    checkTimeoutMs: z.number().int().min(100).max(60_000).default(5_000),
  })
  .strict()

export interface CheckResult {
  name: string
  kind: 'http' | 'tcp'
  ok: boolean
  /** HTTP status, or 'open' / the error for TCP. */
  status: number | string
}

function tcpCheck(host: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port, timeout: timeoutMs, signal })
    sock.once('connect', () => {
      sock.destroy()
      resolve('open')
    })
    sock.once('timeout', () => {
      sock.destroy()
      reject(new Error('timed out'))
    })
    sock.once('error', reject)
  })
}

async function check(
  ep: HealthEndpoint,
  guarded: boolean,
  timeoutMs: number,
  ctx: Parameters<ToolSpec['run']>[1],
): Promise<CheckResult> {
  const allowHosts = toolsConfigOf(ctx).http.allowHosts
  try {
    if ('url' in ep) {
      // Configured endpoints are trusted (the operator wrote them); ad-hoc ones are not.
      const r = await guardedFetch(ep.url, {
        allowHosts: guarded ? allowHosts : [new URL(ep.url).hostname],
        timeoutMs,
        maxBytes: 64 * 1024,
        maxRedirects: guarded ? 5 : 0,
        signal: ctx.signal,
      })
      const ok =
        ep.expectStatus !== undefined ? r.status === ep.expectStatus : r.status >= 200 && r.status < 400
      return { name: ep.name, kind: 'http', ok, status: r.status }
    }
    const addr = guarded ? (await resolveChecked(ep.host, allowHosts)).address : ep.host
    return {
      name: ep.name,
      kind: 'tcp',
      ok: true,
      status: await tcpCheck(addr, ep.port, timeoutMs, ctx.signal),
    }
  } catch (err) {
    if (ctx.signal.aborted) throw err
    return { name: ep.name, kind: 'url' in ep ? 'http' : 'tcp', ok: false, status: (err as Error).message }
  }
}

/**
 * `health_check`: HTTP (status 2xx/3xx or the expected one) and TCP (port open) checks of the
 * endpoints in `toolSettings.healthChecks`, or of ad-hoc targets. Fails, listing every status,
 * when any check fails.
 *
 * @example
 *   await healthCheck.run({ targets: [{ url: 'https://example.org/health' }] }, ctx)
 */
export const healthCheck: ToolSpec<typeof HealthCheckArgs> = {
  name: 'health_check',
  category: 'system',
  description: 'HTTP or TCP checks of configured endpoints or given targets; fails when any is down.',
  args: HealthCheckArgs,
  access: 'read',
  timeoutMs: 30_000,
  target: () => undefined,
  async run(args, ctx) {
    const configured = toolsConfigOf(ctx).healthChecks
    const picked: [HealthEndpoint, boolean][] = []
    if (args.names) {
      for (const n of args.names) {
        const ep = configured.find((c) => c.name === n)
        if (!ep)
          throw new ToolError(
            `no configured health check named ${n} (known: ${configured.map((c) => c.name).join(', ') || 'none'})`,
          )
        picked.push([ep, false])
      }
    }
    for (const t of args.targets ?? []) {
      picked.push(['url' in t ? { name: t.url, ...t } : { name: `${t.host}:${t.port}`, ...t }, true])
    }
    if (!args.names && !args.targets)
      picked.push(...configured.map((c): [HealthEndpoint, boolean] => [c, false]))
    if (picked.length === 0)
      throw new ToolError('nothing to check: no targets given and no toolSettings.healthChecks configured')
    const results = await Promise.all(
      picked.map(([ep, guarded]) => check(ep, guarded, args.checkTimeoutMs, ctx)),
    )
    const output = results.map((r) => `${r.ok ? 'ok  ' : 'FAIL'} ${r.kind} ${r.name}: ${r.status}`).join('\n')
    const failed = results.filter((r) => !r.ok)
    if (failed.length > 0)
      // The tool worked: its answer is that a target is down. That must not switch health_check
      // off, the one tool that would tell an operator so.
      throw new ToolError(`${failed.length} of ${results.length} health checks failed:\n${output}`, false, {
        fault: 'caller',
      })
    return { output, data: { results } }
  },
  async verify(_args, result) {
    const { results } = result.data as { results: CheckResult[] }
    return {
      kind: 'health-status',
      summary: `${results.length} checks healthy`,
      detail: { statuses: Object.fromEntries(results.map((r) => [r.name, r.status])) },
    }
  },
}
