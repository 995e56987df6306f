import { hostname } from 'node:os'
import { z } from 'zod'
import type { ToolResult } from '../harness/tool-result.js'
import { DsseEnvelope } from '../provenance/dsse.js'
import { ExecutionStatement } from '../provenance/statement.js'
import { AgentSummary } from '../report/agent-steps.js'

/**
 * What a house worker keeps of one run's ToolResult (`<prefix>:run:<runId>`, field `result`): the
 * reporter renders the final comment from it, and a re-delivered run reports it instead of
 * running the tool again.
 */
export const StoredResult = z.object({
  status: z.enum(['success', 'failure', 'unverified', 'denied', 'timeout', 'cancelled']),
  output: z.string(),
  truncatedBytes: z.number().int().nonnegative(),
  error: z.object({ reason: z.string(), rule: z.string(), fix: z.string().optional() }).optional(),
  durationMs: z.number().nonnegative(),
  attempts: z.number().int().nonnegative(),
  notes: z.array(z.string()),
  statement: ExecutionStatement.optional(),
  envelope: DsseEnvelope.optional(),
  host: z.string(),
  /** The commit the run worked on, for a job in a checkout (and why it is not the one asked for). */
  checkout: z
    .object({ commit: z.string(), repo: z.string(), target: z.string(), note: z.string().optional() })
    .optional(),
  /** An agent job's steps, transcript and usage, for its final comment (docs/AGENTS.md). */
  agent: AgentSummary.optional(),
})
export type StoredResult = z.infer<typeof StoredResult>

/**
 * @example
 *   const stored = storedResult(await harness.execute(tool, args, opts))
 */
export function storedResult(r: ToolResult, host = hostname()): StoredResult {
  return {
    status: r.status,
    output: r.output,
    truncatedBytes: r.truncatedBytes,
    error: r.error ? { reason: r.error.reason, rule: r.error.rule, fix: r.error.fix } : undefined,
    durationMs: r.durationMs,
    attempts: r.attempts,
    notes: r.notes,
    statement: r.provenance.statement,
    envelope: r.provenance.envelope,
    host,
  }
}

/**
 * A result the worker makes without the harness (dry run, an interrupted write, a cancel before
 * the run): no statement, no envelope.
 *
 * @example
 *   plainResult('failure', '', { rule: 'interrupted', reason: 'the worker stopped mid-run' })
 */
export function plainResult(
  status: StoredResult['status'],
  output: string,
  error?: StoredResult['error'],
  host = hostname(),
): StoredResult {
  return { status, output, truncatedBytes: 0, error, durationMs: 0, attempts: 0, notes: [], host }
}
