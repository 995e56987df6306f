import type { z } from 'zod'
import type { Logger } from '../logger.js'
import type { GiteaToolsPort } from './gitea/gitea-tools-port.js'
import type { ToolsConfig } from './tools-config.js'

/** Tool categories, as in ARCHITECTURE.md. */
export type ToolCategory = 'system' | 'git' | 'network' | 'file' | 'gitea' | 'custom'

/** Whether a tool only reads, or changes something (writes are what approval and read-before-write gate). */
export type ToolAccess = 'read' | 'write'

/** Proof a tool produced that its effect happened (re-read hash, `git rev-parse`, service status). */
export interface Evidence {
  /** What kind of check produced it, e.g. `sha256-reread`, `git-rev-parse`, `http-status`. */
  kind: string
  /** Short human description. */
  summary: string
  /** Machine-readable details (digests, commit ids, statuses). */
  detail: Record<string, unknown>
}

/** What a tool's run returns. `output` is raw; the harness redacts and caps it. */
export interface ToolRunResult {
  output: string
  /** Structured result for programmatic callers (JSON-serialisable). */
  data?: unknown
  /** Digest of the target's content as read or written (read-before-write keys on it). */
  targetDigest?: string
}

/**
 * Whose fault a failed call is. `caller`: the call itself — its arguments or what it named (no such
 * file, outside the workspace, a bad regex, a unit not on the allowlist); another call may well
 * succeed. `dependency`: the tool or what it runs on (a program that cannot start, a crash, disk or
 * network I/O, the remote side failing); other calls will likely fail too. Only dependency failures
 * count toward the circuit breaker, so no caller can switch a tool off for everyone.
 */
export type ToolFault = 'caller' | 'dependency'

/**
 * Thrown by a tool for an ordinary failure. `transient` failures (network, 5xx, lock contention)
 * may be retried; deterministic ones never are. `fault` says whose fault it is; left out, the
 * harness decides (see `faultOf` in src/harness/attempts/fault.ts): transient, or caused by a system error of
 * the host (spawn failure, EIO, ENOSPC...), means `dependency`, anything else `caller`.
 *
 * @example
 *   throw new ToolError('systemctl is not installed', false, { fault: 'dependency' })
 */
export class ToolError extends Error {
  readonly fault: ToolFault | undefined

  constructor(
    message: string,
    readonly transient = false,
    options?: { cause?: unknown; fault?: ToolFault },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'ToolError'
    this.fault = options?.fault
  }
}

/** What the harness hands a tool for one attempt. */
export interface ToolContext {
  /** Aborted on timeout or cancel; tools must pass it to every child process and request. */
  signal: AbortSignal
  house: string
  /** Absolute, real paths this house may touch. */
  workspaceRoots: string[]
  log: Logger
  /** The Gitea port, for the `gitea_*` tools; they fail with a clear reason when it is absent. */
  gitea?: GiteaToolsPort
  /** The `toolSettings:` config section (allowlists, endpoints, caps); defaults apply when absent. */
  toolConfig?: ToolsConfig
  /**
   * The repository the job's checkout came from: a remote of exactly this URL (the checkout's
   * `origin`) is reachable whatever `http.allowHosts` says, and git talking to it (push, pull,
   * ls-remote) authenticates with `authorization` through its environment. No other remote does.
   */
  gitOrigin?: GitOrigin
}

/** The job's own origin and how git authenticates to it (see `ToolContext.gitOrigin`). */
export interface GitOrigin {
  /** The http(s) clone URL, without credentials. */
  url: string
  /** The `Authorization` header's value (`token <t>`), read when git runs; undefined sends none. */
  authorization?: () => string | undefined
}

/**
 * A named, typed operation. Declared once in its own file and registered in `src/tools/index.ts`.
 *
 * @example
 *   export const gitStatus: ToolSpec<typeof GitStatusArgs> = {
 *     name: 'git_status', category: 'git', access: 'read', args: GitStatusArgs, timeoutMs: 10_000, ...
 *   }
 */
export interface ToolSpec<A extends z.ZodType = z.ZodType, C extends ToolContext = ToolContext> {
  name: string
  category: ToolCategory
  description: string
  args: A
  access: ToolAccess
  /** Default per-attempt timeout. */
  timeoutMs: number
  /** What read-before-write keys on (a file path, `repo:<path>`, `service:<unit>`), or undefined. */
  target(args: z.infer<A>, ctx: C): string | undefined
  /** Current digest of the target, to compare with the digest recorded at read time. */
  targetDigest?(args: z.infer<A>, ctx: C): Promise<string | undefined>
  run(args: z.infer<A>, ctx: C): Promise<ToolRunResult>
  /** Produces evidence that the effect happened, or undefined when it cannot be shown. */
  verify(args: z.infer<A>, result: ToolRunResult, ctx: C): Promise<Evidence | undefined>
}
