import { z } from 'zod'
import type { AgentBackend, AgentOutcome, AgentRunContext, AgentTask } from '../agent-port.js'
import type { Logger } from '../../logger.js'
import { describeError, HermesHttp, parseBody } from './hermes-http.js'
import { HermesRun, type HermesRunSettings } from './hermes-run.js'
import { HealthBody } from './hermes-wire.js'

export interface HermesBackendOptions {
  /** The Hermes API server, e.g. `http://127.0.0.1:8642` (a `/p/<profile>` prefix is kept). */
  endpoint: string
  /** The server's API_SERVER_KEY. Never logged, never in an event, an error or an outcome. */
  apiKey: string
  /** The name of the environment variable the key came from, named in a 401's reason. */
  apiKeyEnv?: string
  /** Timeout of one plain request (start, status, approval, stop, health). Default 30 000 ms. */
  requestTimeoutMs?: number
  /** An event stream with no byte (keepalives count) for this long is lost. Default 75 000 ms (Hermes keeps alive every 30 s). */
  streamIdleTimeoutMs?: number
  /**
   * With no event (keepalives do not count) for this long, the run's status is checked: a run that
   * ended while its stream stays silent (a legacy zombie stream, §9 #2) counts as a lost stream.
   * Default 30 000 ms.
   */
  silenceCheckMs?: number
  /** First delay between status polls after a stream loss; doubles up to `pollMaxIntervalMs`. Default 500 ms. */
  pollIntervalMs?: number
  /** Default 5000 ms. */
  pollMaxIntervalMs?: number
  /** Cap of the wait between start attempts refused with 429/503 or not answered. Default 30 000 ms. */
  startRetryMaxMs?: number
  /** After a stop (cancel, limit), how long to wait for the run to settle. Default 15 000 ms. */
  stopSettleMs?: number
  now?: () => number
  /** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  logger?: Logger
}

const Options = z.object({
  endpoint: z
    .string()
    .url('must be an http(s) URL')
    .refine((u) => /^https?:$/.test(new URL(u).protocol), 'must be an http(s) URL')
    .refine(
      (u) => !new URL(u).username && !new URL(u).password,
      'must not carry credentials; give the key as apiKey',
    )
    .refine((u) => !new URL(u).search && !new URL(u).hash, 'must not have a query or fragment'),
  // The key's value is never echoed, so its checks say only what is wrong.
  apiKey: z
    .string()
    .min(1, 'the API key is empty')
    .refine((k) => !/[\r\n\0]/.test(k), 'the API key contains a line break or NUL'),
  requestTimeoutMs: z.number().int().positive().default(30_000),
  streamIdleTimeoutMs: z.number().int().positive().default(75_000),
  silenceCheckMs: z.number().int().positive().default(30_000),
  pollIntervalMs: z.number().int().positive().default(500),
  pollMaxIntervalMs: z.number().int().positive().default(5_000),
  startRetryMaxMs: z.number().int().positive().default(30_000),
  stopSettleMs: z.number().int().nonnegative().default(15_000),
})

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
  })
}

/**
 * The `hermes` agent backend: drives a run on a Hermes Agent API server (docs/AGENTS.md, "Hermes
 * backend"; the server's facts in ../shared/hermes/CONTRACT.md). The agent runs its own tools on
 * the house's machine; this backend starts the run under the job's Idempotency-Key, relays its
 * events and approval requests, survives a lost stream by polling, and stops it on cancel or a limit.
 *
 * @example
 *   const backend = new HermesBackend({ endpoint: 'http://ezra:8642', apiKey: process.env.EZRA_KEY ?? '', apiKeyEnv: 'EZRA_KEY' })
 *   const outcome = await backend.run(task, ctx)   // { status: 'completed', answer, usage, runId, ... }
 */
export class HermesBackend implements AgentBackend {
  readonly kind = 'hermes' as const
  private readonly http: HermesHttp
  private readonly settings: HermesRunSettings

  constructor(options: HermesBackendOptions) {
    const parsed = Options.safeParse(options)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      throw new Error(
        `hermes backend: ${issue?.path.join('.') || 'options'} ${issue?.message ?? 'is invalid'}`,
      )
    }
    const o = parsed.data
    const endpoint = new URL(o.endpoint)
    if (!endpoint.pathname.endsWith('/')) endpoint.pathname += '/'
    this.http = new HermesHttp(endpoint, o.apiKey, o.requestTimeoutMs)
    this.settings = {
      ...o,
      ...(options.apiKeyEnv ? { apiKeyEnv: options.apiKeyEnv } : {}),
      now: options.now ?? Date.now,
      sleep: options.sleep ?? defaultSleep,
      ...(options.logger ? { log: options.logger.child({ backend: 'hermes' }) } : {}),
    }
  }

  run(task: AgentTask, ctx: AgentRunContext): Promise<AgentOutcome> {
    return new HermesRun(this.http, this.settings, task, ctx).execute()
  }

  async health(
    signal: AbortSignal = new AbortController().signal,
  ): Promise<{ ok: boolean; detail?: string }> {
    try {
      const answer = await this.http.request('GET', '/health', { signal, auth: false })
      if (answer.status !== 200) return { ok: false, detail: this.http.redact(describeError(answer)) }
      const body = parseBody(HealthBody, answer.text)
      if (!body.ok)
        return { ok: false, detail: this.http.redact(`unreadable /health answer: ${body.reason}`) }
      const version = body.value.version ? ` ${body.value.version}` : ''
      return { ok: body.value.status === 'ok', detail: `Hermes${version}: ${body.value.status}` }
    } catch (err) {
      return { ok: false, detail: this.http.redact((err as Error).message) }
    }
  }
}
