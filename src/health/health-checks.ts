/**
 * A dependency a process needs to do its work (Redis, Gitea, a house's agent endpoint): resolves
 * when it answers, throws with the reason when not. `signal` aborts when the check's time is up.
 */
export interface DependencyCheck {
  name: string
  check(signal: AbortSignal): Promise<void>
}

/** One dependency as the last check left it; errors are redacted, never carry a credential. */
export interface CheckState {
  name: string
  ok: boolean
  /** How long the last check took (the timeout when it did not answer). */
  latencyMs: number
  checkedAt: string
  /** The last failure's reason, kept after the dependency recovers, and when it happened. */
  lastError?: string
  lastErrorAt?: string
  /** When it last answered. */
  lastOkAt?: string
}

export interface HealthChecksOptions {
  /** Upper bound on each check. Default 2000 ms. */
  timeoutMs?: number
  /** Applied to every error text (the process's secrets, URL credentials). */
  redact?: (text: string) => string
}

/** Strips `user:password@` from any URL in a text: a check's error may quote the URL it called. */
function withoutUrlCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, '$1')
}

/**
 * The dependencies of one process, checked together (in parallel, each bounded) for `/ready` and
 * `/health/details`, remembering each one's last error and last success.
 *
 * @example
 *   const checks = new HealthChecks([{ name: 'redis', check: async () => void (await redis.ping()) }])
 *   const states = await checks.run() // [{ name: 'redis', ok: true, latencyMs: 0.4, ... }]
 */
export class HealthChecks {
  private readonly last = new Map<string, CheckState>()
  private readonly timeoutMs: number
  private readonly redact: (text: string) => string

  constructor(
    readonly checks: readonly DependencyCheck[],
    options: HealthChecksOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 2000
    const redact = options.redact ?? ((t: string) => t)
    this.redact = (t) => redact(withoutUrlCredentials(t))
  }

  /** Runs every check now; resolves to each one's state, in the order given. */
  async run(): Promise<CheckState[]> {
    return Promise.all(this.checks.map((c) => this.runOne(c)))
  }

  private async runOne(c: DependencyCheck): Promise<CheckState> {
    const started = performance.now()
    const controller = new AbortController()
    let timer: NodeJS.Timeout | undefined
    let error: string | undefined
    try {
      await Promise.race([
        c.check(controller.signal),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs)
        }),
      ])
    } catch (err) {
      error = this.redact(err instanceof Error ? err.message : String(err)) || 'failed'
    } finally {
      clearTimeout(timer)
      controller.abort()
    }
    const now = new Date().toISOString()
    const prev = this.last.get(c.name)
    const state: CheckState = {
      name: c.name,
      ok: error === undefined,
      latencyMs: Math.round((performance.now() - started) * 10) / 10,
      checkedAt: now,
      ...(error !== undefined
        ? { lastError: error, lastErrorAt: now }
        : prev?.lastError !== undefined && { lastError: prev.lastError, lastErrorAt: prev.lastErrorAt }),
      ...(error === undefined
        ? { lastOkAt: now }
        : prev?.lastOkAt !== undefined && { lastOkAt: prev.lastOkAt }),
    }
    this.last.set(c.name, state)
    return state
  }
}
