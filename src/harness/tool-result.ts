import type { DsseEnvelope } from '../provenance/dsse.js'
import type { ExecutionStatement } from '../provenance/statement.js'
import type { Evidence } from '../tools/tool.js'
import type { Prediction } from '../intelligence/predict.js'
import type { Mode } from './mode.js'

/** How an execution ended. Only `success` means the effect happened and (if required) was proven. */
export type ToolStatus = 'success' | 'failure' | 'unverified' | 'denied' | 'timeout' | 'cancelled'

/** Why an execution did not succeed, for a person: what happened, which rule, how to fix it. */
export interface ToolResultError {
  /** One readable sentence (redacted). */
  reason: string
  /** The policy rule or failure class, e.g. `approval-expired`, `circuit-open`, `bad-args`. */
  rule: string
  /** How to satisfy the rule, when there is a way. */
  fix?: string
  /** Whether the final failure was classified transient. */
  transient?: boolean
}

/** The signed record of one execution. `envelope` is present when the harness signs (SOVEREIGN, or sign: true). */
export interface Provenance {
  statement: ExecutionStatement
  envelope?: DsseEnvelope
  /** Where the envelope was appended in the audit log. */
  audit?: { seq: number; digest: string }
}

/** What `Harness.execute` resolves to. Never thrown; every field is safe to show (redacted, capped). */
export interface ToolResult {
  tool: string
  house: string
  /** The mode the call actually ran in (INTELLIGENT degrades to SIMPLE under stress: see `degraded`). */
  mode: Mode
  /** Set when the call ran in another mode than asked for: INTELLIGENT under stress ran as SIMPLE. */
  degraded?: { from: Mode; reason: string }
  status: ToolStatus
  /** Redacted output, capped (default 64 KiB) with a note saying how much was cut. */
  output: string
  /** Bytes cut from the output by the cap (0 when nothing was cut). */
  truncatedBytes: number
  /** The tool's structured result, redacted. */
  data?: unknown
  evidence?: Evidence
  provenance: Provenance
  durationMs: number
  /** Attempts made (0 when the call was refused before running). */
  attempts: number
  error?: ToolResultError
  /** INTELLIGENT mode: the prediction made before running. */
  prediction?: Prediction
  /** Things worth knowing that are not errors (degraded mode, evidence check failed, audit failed). */
  notes: string[]
}
