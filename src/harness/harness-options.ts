import type { KeyObject } from 'node:crypto'
import type { RedisClient } from '../queue/connection.js'
import type { HarnessConfig, HarnessConfigInput } from '../houses/harness-config.js'
import type { PatternStore } from '../intelligence/pattern-store.js'
import type { Logger } from '../logger.js'
import type { AuditLog } from '../provenance/audit-log.js'
import type { AgentFacts, ExecutionPredicate, ResourceDescriptor } from '../provenance/statement.js'
import type { Evidence, GitOrigin, ToolContext, ToolSpec } from '../tools/tool.js'
import type { ToolResultError, ToolStatus } from './tool-result.js'
import type { Approval } from './approvals/approval.js'
import type { CircuitBreaker } from './attempts/circuit-breaker.js'
import type { House } from './house.js'
import type { Mode } from './mode.js'
import type { ReadStore } from './read-store.js'

/** The Gitea port type as the tool contract declares it (unknown until the contract names one). */
type GiteaPortOf<C> = C extends { gitea?: infer G } ? G : unknown

/** How to build a Harness. Only `house` is required. */
export interface HarnessOptions {
  house: House
  /** Default: the house's configured mode. */
  mode?: Mode
  /** The harness sections of the YAML config (houses, tools, breaker, retry, output, keys, audit). */
  config?: HarnessConfigInput | HarnessConfig
  /** The tool registry. Default: the built-in catalogue. */
  tools?: readonly ToolSpec[]
  /** Shared breaker, read-before-write, pattern and audit state; memory/file without it. */
  redis?: RedisClient
  /** Key prefix in Redis (a cluster hash tag). Default `{uw}`. */
  redisPrefix?: string
  /** Default: config `keys.dir`, else `<UW_DATA_DIR>/keys`. */
  keyDir?: string
  /** JSONL audit file when Redis is not given. Default: config `audit.path`, else `<UW_DATA_DIR>/audit.jsonl`. */
  auditPath?: string
  log?: Logger
  /** Gitea port for the gitea_* tools; passed to tools as `ctx.gitea`. */
  gitea?: GiteaPortOf<ToolContext>
  /** More fields for every tool's context (allowlists and the like). */
  context?: Record<string, unknown>
  /** Secret values that must never appear in results or logs (tokens, webhook secrets). */
  secrets?: readonly (string | undefined)[]
  /**
   * Sign every result and append it to the audit log, not only in SOVEREIGN mode (which always
   * does). The bot sets it so every comment carries verifiable provenance.
   */
  sign?: boolean
  /**
   * House whose public key verifies legacy approvals (only with `keys.acceptLegacyApprovals`).
   * Default `timmy`. New approvals are router attestations and need no house key.
   */
  approvalKeyHouse?: string
  /**
   * Router public keys trusted for approval attestations, replacing config `keys.routerPublicKeys`
   * and the key directory's `_router.pub`.
   */
  routerKeys?: readonly KeyObject[]
  /** Replace the state stores (default: Redis-backed when `redis` is given, else in memory). */
  stores?: { breaker?: CircuitBreaker; reads?: ReadStore; patterns?: PatternStore; audit?: AuditLog }
  /**
   * Stress of the process running the calls: while `degraded()` names a reason, INTELLIGENT calls
   * run as SIMPLE (no prediction read, no outcome written) and their result says why
   * (`ToolResult.degraded`). SOVEREIGN and SIMPLE calls are not affected. The bot passes its
   * worker's `StressMonitor` view of the house (docs/OPERATIONS.md, "Graceful degradation").
   */
  stress?: StressCheck
  /** Clock and randomness, for tests. */
  now?: () => number
  random?: () => number
}

/** Whether the process is too stressed for INTELLIGENT mode, and why (see `HarnessOptions.stress`). */
export interface StressCheck {
  /** A reason such as `event-loop lag 240 ms > 200 ms`, or undefined when not stressed. */
  degraded(): string | undefined
}

/** Per-call options. */
export interface ExecuteOptions {
  /** Who asked (a Gitea login, or a local user name). */
  requestedBy: string
  /** Aborting it cancels the call (status `cancelled`). */
  signal?: AbortSignal
  /** A sovereign's approval: a router attestation (from `/approve` or `harness.approve()`). */
  approval?: Approval
  /**
   * The job and run this call belongs to: an approval attestation must name the same ones, and the
   * job id is signed into provenance so a comment's job id can be checked.
   */
  job?: { id: string; runId?: string }
  /** The comment that asked, recorded in provenance. */
  requestUrl?: string
  /** The webhook delivery id, recorded in provenance. */
  deliveryId?: string
  /** Override the harness's mode for this call. */
  mode?: Mode
  /** For a `/retry`: the job retried and who asked for it first, signed into provenance. */
  retryOf?: { jobId: string; requestedBy: string }
  /**
   * The most output characters the result comment shows; a longer output also gets the digest of
   * the part shown signed, so a cut comment can be checked (see `outputFacts`).
   */
  shownOutputChars?: number
  /**
   * This call's workspace roots, replacing the house's static `workspaceRoots` (the bot passes
   * the job's checkout). Relative paths resolve against the first; every path must lie inside one.
   */
  workspaceRoots?: readonly string[]
  /**
   * What the call worked on, signed as the predicate's `resolvedDependencies` (the bot: the
   * checkout's commit, `{ uri: 'git+<clone url>@<sha>', digest: { gitCommit: '<sha>' } }`).
   */
  resolvedDependencies?: readonly ResourceDescriptor[]
  /**
   * This call's branch prefix for git_push and gitea_create_pr, replacing
   * `toolSettings.git.branchPrefix` (the bot passes a repository's own, from `.uni-wizard.yaml`).
   * `{house}` is replaced by the house's name, as in the setting.
   */
  branchPrefix?: string
  /**
   * The repository the call's checkout came from, and the bot's credentials for it (the bot: the
   * job's clone URL and its Gitea token). Git tools reach it whatever the network policy says and
   * authenticate to it, and to no other remote, through git's environment. Never signed or logged.
   */
  gitOrigin?: GitOrigin
  /**
   * Proof beyond the tool's own evidence, run after a successful tool run and before the result is
   * signed (the bot: the repository's proof commands in the job's checkout). Its evidence is signed
   * as the predicate's `proof`; when it did not pass, the call ends `unverified` (rule
   * `proof-commands`). A throw (the call was cancelled meanwhile) ends the call `cancelled` if the
   * signal was aborted, else `unverified`.
   */
  proof?: (signal: AbortSignal) => Promise<ExtraProof>
  /**
   * The agent task this call is one step of (`agent.ask`, with the job's args): its reads and its
   * writes that stay in the checkout (`file_write`, `git_commit`, `git_checkout`) need no approval
   * of their own (the task was allowed to start); anything leaving the checkout does.
   */
  task?: {
    tool: string
    args: unknown
    /** The sha256 of the implementation's diff this call pushes: its approval is bound to it. */
    diff?: string
  }
}

/** What an `ExecuteOptions.proof` check found: whether it passed, and its signed evidence. */
export interface ExtraProof {
  passed: boolean
  evidence: NonNullable<ExecutionPredicate['proof']>
  /** The commands' output (its end), for people; not signed (the evidence has its digests). */
  output?: string
}

/** One call of `executeMany`. */
export interface ToolCall {
  tool: string
  args: unknown
  options: ExecuteOptions
}

/** An agent task's outcome as `Harness.recordTask` signs it. */
export interface TaskRecord {
  /** The job name, `agent.<kind>`. */
  tool: string
  /** Epoch ms the task started (the statement's `startedAt`). */
  startedAt: number
  /** `performance.now()` at the start, for the duration; default now. */
  t0?: number
  status: ToolStatus
  /** The answer or summary: the signed output. */
  output: string
  error?: ToolResultError
  /** Digest of what was asked (the job's digest covers house, task and text). */
  argsDigest: string
  attempts?: number
  evidence: readonly Evidence[]
  proof?: ExtraProof['evidence']
  agent: AgentFacts
  notes?: readonly string[]
}
