import type { AgentBackend, AgentEvent, AgentLimits } from '../agents/agent-port.js'
import type { AgentTaskKind } from '../agents/task-kind.js'
import type { Harness } from '../harness/harness.js'
import type { ExecuteOptions, ExtraProof } from '../harness/harness-options.js'
import type { JobRecord } from '../jobs/job-store.js'
import type { Logger } from '../logger.js'
import type { AgentProgress } from '../report/agent-steps.js'
import type { ToolSpec } from '../tools/tool.js'

// The shapes an agent job is driven with (src/workers/agent-job.ts), in their own file so the
// pieces of a job (its run log, its implementation tail) share them without importing the job.

/** A house's agent as the worker drives it. */
export interface AgentRuntime {
  backend: AgentBackend
  model?: string
  limits: AgentLimits
}

/** What the prompt of a task is built from and what it came to (docs/AGENTS.md, "Safety"). */
export interface TaskPrompt {
  instructions: string
  input: string
  /** The or pull request's title (the implementation's pull request is named after it). */
  title: string
}

/** Where a task works: its checkout (path, commit it started on, the repository's clone URL). */
export interface TaskCheckout {
  path: string
  commit: string
  repo: { owner: string; name: string }
  /** The branch a pull request of the task merges into (the default branch). */
  baseBranch: string | undefined
  /** For a `/review`: the pull request and its base branch (fetched into the checkout). */
  pull?: { number: number; baseRef: string }
}

/** What the worker gives an agent job besides the record. */
export interface AgentJobDeps {
  house: string
  harness: Harness
  tools: readonly ToolSpec[]
  agent: AgentRuntime
  /** Builds the task's prompt from the issue (only text by writers; sanitised; no secrets). */
  prompt(
    kind: AgentTaskKind,
    rec: JobRecord,
    checkout: TaskCheckout | undefined,
    diff: string | undefined,
  ): Promise<TaskPrompt>
  /**
   * Keeps the task (its prompt) the run was first started with and resolves to the kept one: a
   * worker that takes the run over resumes it with exactly the same request.
   */
  keepTask?(task: string): Promise<string>
  /**
   * Counts the run's tokens so far (its running total) into the house's daily budget; resolves to
   * why the run must stop when the budget is spent.
   */
  spend?(totalTokens: number): Promise<string | undefined>
  /** Stores one event (JSON line) of the run's log; resolves to its position. */
  appendEvent(line: string): Promise<number>
  /** Telemetry of each stored event (`seq`: its position in the run's log); never throws. */
  emitEvent?(e: AgentEvent, seq: number): Promise<void>
  /**
   * The events already in the run's log: those a worker that died mid-run stored before this one
   * took the job over. The log and its signed digest go on from them instead of starting again.
   */
  storedEvents?(): Promise<string[]>
  /** Stores the checklist and asks the reporter to show it (throttled by the caller: this job). */
  showProgress(progress: AgentProgress, seq: number): Promise<void>
  /** How often the checklist may be shown (ms); the last state is always shown at the end. */
  progressMs: number
  /** Posts a review of type COMMENT on the pull request; resolves to its URL. */
  postReview?(repo: { owner: string; name: string }, number: number, body: string): Promise<string>
  /** Sets a commit status on a commit of the repository (the implementation's pull request head). */
  commitStatus?(
    repo: { owner: string; name: string },
    sha: string,
    state: 'pending' | 'success' | 'failure' | 'error',
    description: string,
  ): Promise<void>
  /**
   * Asks a sovereign to decide (the job's comment shows the request; `/approve <job>` or `/deny
   * <job>` answers) and waits for the answer, the job's cancel, or the request's expiry (a deny).
   * Without it every request is denied.
   */
  decide?(request: DecisionRequest, signal: AbortSignal): Promise<Decision>
  log: Logger
  now?: () => number
}

/** What a running job asks a sovereign: `digest` is what an approval is bound to. */
export interface DecisionRequest {
  id: string
  what: string
  digest: string
}

/** A sovereign's answer; `approval` is the router's attestation of the request's digest. */
export interface Decision {
  decision: 'approve' | 'deny'
  by?: string
  reason?: string
  approval?: unknown
}

/** One agent job's run. */
export interface AgentJobRun {
  rec: JobRecord
  checkout: TaskCheckout | undefined
  signal: AbortSignal
  /** The options every tool call of the job shares (requester, job, checkout roots, provenance). */
  options: ExecuteOptions
  /** The repository's proof commands (`.uni-wizard.yaml`), when there are any and they may run. */
  proof?: (signal: AbortSignal) => Promise<ExtraProof>
  /** Why the proof cannot run (they are off on this worker), when there are some. */
  proofUnavailable?: string
  /** The repository's own branch prefix (`.uni-wizard.yaml`), if any. */
  branchPrefix?: string
  /** Where the task works when it has no checkout (the library's static workspace). */
  workdir?: string
}
