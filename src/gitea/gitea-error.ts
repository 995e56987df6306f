import type { GiteaOperation } from './port.js'

/** A status a retry can help with: network failure (0), rate limiting, or a server error. */
export function isTransientStatus(status: number): boolean {
  return status === 0 || status === 429 || status >= 500
}

/**
 * Every failure of a `GiteaPort` call. `status` is the HTTP status (0 when no response
 * arrived), `operation` the port method, `transient` whether retrying later could succeed.
 *
 * @example
 *   try { await gitea.getIssue(repo, 7) } catch (err) {
 *     if (err instanceof GiteaError && err.status === 404) return null
 *     throw err
 *   }
 */
export class GiteaError extends Error {
  override readonly name = 'GiteaError'
  readonly status: number
  readonly operation: GiteaOperation
  readonly transient: boolean
  /** How many HTTP attempts were made before giving up. */
  readonly attempts: number
  /**
   * A call that creates something failed in a way that may hide an applied request (a timeout, a
   * dropped connection, a 5xx): retrying could create it twice. Still `transient` for a caller that
   * can look for what was created first; the harness does not retry it.
   */
  readonly mayHaveBeenApplied: boolean

  constructor(input: {
    operation: GiteaOperation
    status: number
    message: string
    attempts?: number
    cause?: unknown
    mayHaveBeenApplied?: boolean
  }) {
    super(
      `${input.operation}: ${input.status === 0 ? 'network error' : `HTTP ${input.status}`}: ${input.message}`,
      {
        cause: input.cause,
      },
    )
    this.status = input.status
    this.operation = input.operation
    this.transient = isTransientStatus(input.status)
    this.attempts = input.attempts ?? 1
    this.mayHaveBeenApplied = input.mayHaveBeenApplied ?? false
  }
}
