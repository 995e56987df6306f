import { ToolError } from '../tools/tool.js'

/**
 * Why a checkout failed. `disk-full`, `network` and `busy` (an issue workspace in use) are
 * transient (the queue retries the job later, it is never dropped); the others are not (a retry
 * would fail the same way).
 */
export type CheckoutFailure =
  'bad-request' | 'not-found' | 'unauthorized' | 'no-such-commit' | 'disk-full' | 'network' | 'busy' | 'git'

const TRANSIENT_KINDS: ReadonlySet<CheckoutFailure> = new Set(['disk-full', 'network', 'busy'])

/**
 * A checkout that could not be prepared, with a reason fit for the job's result comment (never a
 * token: messages built from git's output are scrubbed first). A ToolError, so `transient` and
 * `fault` mean what they mean for tools: the worker retries transient failures with backoff and
 * fails the others at once (BullMQ's `UnrecoverableError`).
 *
 * @example
 *   throw new CheckoutError('not-found', 'the repository acme/api was not found on Gitea')
 */
export class CheckoutError extends ToolError {
  constructor(
    readonly kind: CheckoutFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, TRANSIENT_KINDS.has(kind), {
      cause: options?.cause,
      fault: kind === 'bad-request' || kind === 'no-such-commit' ? 'caller' : 'dependency',
    })
    this.name = 'CheckoutError'
  }
}
