import type { FailureKind } from '../../intelligence/failure-kind.js'
import { causeChain, isTransient, TRANSIENT_CODES } from './transient.js'

/**
 * The kind of a tool's failure, for the pattern store (src/intelligence/failure-kind.ts): a
 * network error code anywhere in the chain is `network`, an HTTP 5xx or 429 status `server`, any
 * other transient failure (a lock held, a ToolError marked transient) `busy`, and everything else
 * `tool` (permanent). Reads structured fields only, like `isTransient`.
 *
 * @example
 *   failureKindOf(Object.assign(new Error('reset'), { code: 'ECONNRESET' })) // 'network'
 */
export function failureKindOf(err: unknown): FailureKind {
  if (!isTransient(err)) return 'tool'
  for (const e of causeChain(err)) {
    const o = e as { code?: unknown; status?: unknown }
    if (
      typeof o.code === 'string' &&
      TRANSIENT_CODES.has(o.code) &&
      o.code !== 'EBUSY' &&
      o.code !== 'EAGAIN'
    )
      return 'network'
    if (typeof o.status === 'number' && (o.status >= 500 || o.status === 429)) return 'server'
  }
  return 'busy'
}
