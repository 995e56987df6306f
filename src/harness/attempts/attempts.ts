import type { RetryConfig } from '../../houses/harness-config.js'
import type { Logger } from '../../logger.js'
import type { ToolContext, ToolFault, ToolRunResult, ToolSpec } from '../../tools/tool.js'
import { errText } from '../err-text.js'
import type { FailureKind } from '../../intelligence/failure-kind.js'
import type { RetryAdvice } from '../../intelligence/predict.js'
import { failureKindOf } from './failure-kind-of.js'
import { faultOf } from './fault.js'
import type { ToolResultError, ToolStatus } from '../tool-result.js'
import { backoffDelay, isTransient } from './transient.js'
import { AttemptAbort, withDeadline } from './with-deadline.js'

/** What the attempt loop needs from the harness. */
export interface AttemptDeps {
  house: string
  retry: RetryConfig
  random: () => number
  log: Logger
  redact: (text: string) => string
}

/** One tool call, its arguments parsed, ready to run. */
export interface AttemptCall {
  spec: ToolSpec
  args: unknown
  ctx: ToolContext
  /** The caller's signal: aborting it cancels the call, between attempts too. */
  signal: AbortSignal | undefined
  timeoutMs: number
  /**
   * INTELLIGENT mode: whether a transient failure of this kind is retried, from its record
   * (absent: always, up to `retry.maxAttempts`).
   */
  mayRetry?: (kind: FailureKind) => RetryAdvice
}

/** How the attempts ended; `fault` says whose fault a failure is (src/harness/attempts/fault.ts). */
export interface AttemptOutcome {
  status: ToolStatus
  result?: ToolRunResult
  error?: ToolResultError
  fault?: ToolFault
  /** Why it failed, coarsely (for the pattern store); absent on success and cancel. */
  kind?: FailureKind
}

/**
 * Runs a tool until it succeeds, fails for good, times out or is cancelled: each attempt under
 * its own deadline, transient failures retried up to `retry.maxAttempts` with jittered backoff.
 * Counts attempts in `run.attempts`. The circuit breaker is the caller's (`breaker-gate.ts`).
 *
 * @example
 *   const outcome = await runAttempts(deps, { spec, args, ctx, signal, timeoutMs: 5_000 }, run)
 */
export async function runAttempts(
  deps: AttemptDeps,
  call: AttemptCall,
  run: { attempts: number; retried: FailureKind[]; notes: string[] },
): Promise<AttemptOutcome> {
  const { spec, args, ctx: baseCtx, signal: callerSignal, timeoutMs } = call
  const retry = deps.retry
  for (let attempt = 1; ; attempt++) {
    run.attempts = attempt
    if (callerSignal?.aborted) return cancelled(spec)
    try {
      const result = await withDeadline(timeoutMs, callerSignal, (signal) =>
        spec.run(args, { ...baseCtx, signal }),
      )
      return { status: 'success', result }
    } catch (err) {
      if (err instanceof AttemptAbort) {
        if (err.kind === 'cancelled') return cancelled(spec)
        return {
          status: 'timeout',
          kind: 'timeout',
          error: {
            rule: 'timeout',
            reason: `${spec.name} did not finish within ${timeoutMs} ms (attempt ${attempt}); it was stopped`,
            fix: `raise houses.${deps.house}.timeouts.${spec.name} if it is expected to take longer`,
          },
        }
      }
      const transient = isTransient(err)
      const kind = failureKindOf(err)
      const advice = transient && attempt < retry.maxAttempts ? call.mayRetry?.(kind) : undefined
      if (advice && !advice.retry) run.notes.push(advice.why)
      if (!transient || attempt >= retry.maxAttempts || advice?.retry === false) {
        return {
          status: 'failure',
          fault: faultOf(err),
          kind,
          error: {
            rule: transient ? 'transient-failure' : 'tool-failure',
            reason: `${spec.name} failed${attempt > 1 ? ` after ${attempt} attempts` : ''}: ${errText(err)}`,
            transient,
          },
        }
      }
      if (!run.retried.includes(kind)) run.retried.push(kind)
      const delay = backoffDelay(attempt, retry, deps.random)
      deps.log.warn(
        { tool: spec.name, attempt, delayMs: delay, err: deps.redact(errText(err)) },
        'transient failure, retrying',
      )
      if (!(await sleep(delay, callerSignal))) return cancelled(spec)
    }
  }
}

function cancelled(spec: ToolSpec): { status: ToolStatus; error: ToolResultError } {
  return {
    status: 'cancelled',
    error: { rule: 'cancelled', reason: `${spec.name} was cancelled by the caller` },
  }
}

/** Sleeps; resolves false when the signal aborts first. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false)
  return new Promise((resolvePromise) => {
    const done = (ok: boolean) => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      resolvePromise(ok)
    }
    const onAbort = () => done(false)
    const timer = setTimeout(() => done(true), ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
