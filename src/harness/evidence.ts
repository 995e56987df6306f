import type { Evidence, ToolContext, ToolRunResult, ToolSpec } from '../tools/tool.js'
import { errText } from './err-text.js'
import { redactValue } from './redactor.js'
import { withDeadline } from './attempts/with-deadline.js'

/** One successful run to verify. */
export interface EvidenceCall {
  spec: ToolSpec
  args: unknown
  result: ToolRunResult
  ctx: ToolContext
  /** The same deadline the run had. */
  timeoutMs: number
}

/**
 * Runs the tool's `verify` after a success, under the run's deadline, and returns its evidence
 * redacted. A verification that throws or times out is no evidence, with a note saying why.
 *
 * @example
 *   run.evidence = await collectEvidence({ spec, args, result, ctx, timeoutMs }, redact, run.notes)
 */
export async function collectEvidence(
  call: EvidenceCall,
  redact: (text: string) => string,
  notes: string[],
): Promise<Evidence | undefined> {
  const { spec, args, result, ctx, timeoutMs } = call
  try {
    const evidence = await withDeadline(timeoutMs, undefined, (signal) =>
      spec.verify(args, result, { ...ctx, signal }),
    )
    return evidence ? redactValue(evidence, redact) : undefined
  } catch (err) {
    notes.push(`verification failed: ${errText(err)}`)
    return undefined
  }
}
