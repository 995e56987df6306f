import type { FailureKind } from '../intelligence/failure-kind.js'
import type { PatternRead } from '../intelligence/pattern-store.js'
import type { Prediction } from '../intelligence/predict.js'
import type { Evidence, ToolRunResult } from '../tools/tool.js'
import type { ExecuteOptions, ExtraProof } from './harness-options.js'
import type { Mode } from './mode.js'
import type { AgentFacts } from '../provenance/statement.js'
import type { AcceptedApproval } from './policy-check.js'

/**
 * Mutable bookkeeping for one `execute` call: what the pipeline learned so far, which
 * `finishResult` turns into the signed ToolResult.
 *
 * @example
 *   const run = new RunState('git_status', Mode.SIMPLE, { requestedBy: 'alice' }, Date.now(), performance.now())
 */
export class RunState {
  argsDigest: string | undefined
  approvals: AcceptedApproval[] = []
  attempts = 0
  evidence: Evidence | undefined
  prediction: Prediction | undefined
  /** INTELLIGENT mode: the records the prediction was made from (retry advice reads them too). */
  patterns: PatternRead | undefined
  /** Failure kinds retried during the attempts (the pattern store learns whether retries recovered). */
  retried: FailureKind[] = []
  result: ToolRunResult | undefined
  notes: string[] = []
  /** Evidence of `ExecuteOptions.proof`, signed as the predicate's `proof`. */
  proof: ExtraProof['evidence'] | undefined
  /** Evidence besides the tool's own (an agent task's: one entry per kind of proof it gathered). */
  moreEvidence: Evidence[] = []
  /** An agent task's signed facts (`Harness.recordTask`). */
  agent: AgentFacts | undefined
  mode: Mode
  /** Set when the call was asked for in a mode it did not run in (INTELLIGENT under stress). */
  degraded: { from: Mode; reason: string } | undefined

  constructor(
    readonly tool: string,
    mode: Mode,
    readonly options: ExecuteOptions,
    readonly started: number,
    readonly t0: number,
  ) {
    this.mode = mode
  }
}
