import { ToolError, type ToolFault } from '../../tools/tool.js'
import { causeChain, TRANSIENT_CODES } from './transient.js'

// System error codes that say the host or the network is in trouble, whatever the call asked.
const DEPENDENCY_CODES = new Set([
  ...TRANSIENT_CODES,
  'EIO',
  'ENOSPC',
  'EDQUOT',
  'EMFILE',
  'ENFILE',
  'ENOMEM',
  'EROFS',
  'ENOEXEC',
])

// System error codes about the path a call named (outside a spawn): the caller's business.
const CALLER_CODES = new Set([
  'ENOENT',
  'ENOTDIR',
  'EISDIR',
  'ELOOP',
  'ENAMETOOLONG',
  'EEXIST',
  'ENOTEMPTY',
  'EACCES',
  'EPERM',
])

function systemFault(e: object): ToolFault | undefined {
  const { code, syscall } = e as { code?: unknown; syscall?: unknown }
  if (typeof code !== 'string') return undefined
  // `spawn git ENOENT` is a missing program, not a missing file.
  if (typeof syscall === 'string' && syscall.startsWith('spawn')) return 'dependency'
  if (DEPENDENCY_CODES.has(code)) return 'dependency'
  if (CALLER_CODES.has(code)) return 'caller'
  return undefined
}

function isFault(v: unknown): v is ToolFault {
  return v === 'caller' || v === 'dependency'
}

/**
 * Whose fault a tool's failure is; only `dependency` failures count toward the circuit breaker.
 * This is the one place the rule lives (docs/HARNESS.md, "Circuit breaker"):
 *
 * 1. an explicit `fault` on the error or one of its causes wins;
 * 2. a ToolError marked `transient` is the dependency's (network, 5xx, lock contention);
 * 3. a ToolError caused by a host or network failure (a program that cannot be spawned, EIO,
 *    ENOSPC, ECONNRESET..., an error marked transient, an HTTP 5xx) is the dependency's;
 * 4. any other ToolError is the caller's: the tool looked at the call and refused or failed it;
 * 5. anything else thrown is a crash, the dependency's, unless it is a plain system error about
 *    the path the call named (ENOENT, EISDIR, EACCES...).
 *
 * Only structured fields are read, never message text: messages quote the caller's arguments, so a
 * file named `ECONNRESET` or `index.lock` cannot make its own failure count against the tool.
 * Timeouts never reach here; the harness counts them as the dependency's.
 *
 * @example
 *   faultOf(new ToolError('no such file or directory: x')) // 'caller'
 *   faultOf(new ToolError('HTTP 503', true)) // 'dependency'
 */
export function faultOf(err: unknown): ToolFault {
  const chain = causeChain(err)
  for (const e of chain) {
    const f = (e as { fault?: unknown }).fault
    if (isFault(f)) return f
  }
  const [top, ...causes] = chain
  if (top instanceof ToolError) {
    if (top.transient) return 'dependency'
    for (const e of causes) {
      const o = e as { transient?: unknown; status?: unknown }
      if (o.transient === true) return 'dependency'
      if (typeof o.status === 'number' && (o.status >= 500 || o.status === 429)) return 'dependency'
      if (systemFault(e) === 'dependency') return 'dependency'
    }
    return 'caller'
  }
  return (top && systemFault(top)) ?? 'dependency'
}
