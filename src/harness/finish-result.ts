import type { KeyObject } from 'node:crypto'
import { hostname } from 'node:os'
import type { Logger } from '../logger.js'
import type { AuditLog } from '../provenance/audit-log.js'
import { digestOf } from '../provenance/canonical-json.js'
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope } from '../provenance/dsse.js'
import { buildStatement, outputFacts } from '../provenance/statement.js'
import { errText } from './err-text.js'
import { Mode } from './mode.js'
import { UNI_WIZARD_VERSION } from './package-version.js'
import { capOutput, redactValue } from './redactor.js'
import type { RunState } from './run-state.js'
import type { ToolResult, ToolResultError, ToolStatus } from './tool-result.js'

/** What finishing a result needs from the harness. */
export interface FinishDeps {
  house: string
  redact: (text: string) => string
  /** `output.maxBytes`: the cap on the output shown. */
  maxOutputBytes: number
  now: () => number
  /** Sign and audit every result, not only SOVEREIGN ones. */
  sign: boolean
  /** The house's private key; called only when the result is signed (it may create the key). */
  signingKey: () => KeyObject
  /** The audit log; called only when the result is signed (it may open the log). */
  audit: () => AuditLog
  log: Logger
}

const HOST = hostname()

/**
 * Turns a run into its ToolResult: the output redacted and capped, the in-toto statement built,
 * then (SOVEREIGN mode, or `sign`) the statement signed as a DSSE envelope and appended to the
 * audit log, and one log line. Every outcome ends here, refusals included. A signing or audit
 * failure becomes a note, never a rejection: the tool may have run.
 *
 * @example
 *   return finishResult(deps, run, 'denied', denial)
 */
export async function finishResult(
  deps: FinishDeps,
  run: RunState,
  status: ToolStatus,
  error?: ToolResultError,
): Promise<ToolResult> {
  const redact = deps.redact
  const raw = run.result?.output ?? ''
  const capped = capOutput(redact(raw), deps.maxOutputBytes)
  const safeError = error
    ? { ...error, reason: redact(error.reason), ...(error.fix ? { fix: redact(error.fix) } : {}) }
    : undefined
  const finished = deps.now()
  const out = outputFacts(capped.text, run.options.shownOutputChars)
  const degraded = run.degraded && { from: run.degraded.from, reason: redact(run.degraded.reason) }
  const statement = buildStatement({
    outputSha256: out.sha256,
    predicate: {
      requestedBy: run.options.requestedBy,
      house: deps.house,
      mode: run.mode,
      ...(degraded ? { degraded } : {}),
      tool: run.tool,
      argsDigest: run.argsDigest ?? digestOf(null),
      approvals: run.approvals,
      host: HOST,
      versions: { uniWizard: UNI_WIZARD_VERSION, node: process.versions.node },
      startedAt: new Date(run.started).toISOString(),
      finishedAt: new Date(finished).toISOString(),
      attempts: run.attempts,
      status,
      evidence: [...(run.evidence ? [run.evidence] : []), ...run.moreEvidence],
      ...(run.proof && run.proof.length > 0 ? { proof: run.proof } : {}),
      requestUrl: run.options.requestUrl,
      deliveryId: run.options.deliveryId,
      error: safeError?.reason,
      jobId: run.options.job?.id,
      retryOf: run.options.retryOf,
      output: out.output,
      ...(run.options.resolvedDependencies && run.options.resolvedDependencies.length > 0
        ? { resolvedDependencies: [...run.options.resolvedDependencies] }
        : {}),
      ...(run.agent ? { agent: run.agent } : {}),
    },
  })
  const result: ToolResult = {
    tool: run.tool,
    house: deps.house,
    mode: run.mode,
    status,
    output: capped.text,
    truncatedBytes: capped.cutBytes,
    provenance: { statement },
    durationMs: 0,
    attempts: run.attempts,
    notes: run.notes,
  }
  if (run.result?.data !== undefined) result.data = redactValue(run.result.data, redact)
  if (run.evidence) result.evidence = run.evidence
  if (safeError) result.error = safeError
  if (run.prediction) result.prediction = run.prediction
  if (degraded) result.degraded = degraded

  if (deps.sign || run.mode === Mode.SOVEREIGN) {
    try {
      const key = deps.signingKey()
      const envelope = signEnvelope(Buffer.from(JSON.stringify(statement)), IN_TOTO_PAYLOAD_TYPE, key)
      result.provenance.envelope = envelope
      const entry = await deps.audit().append(envelope, new Date(finished))
      result.provenance.audit = { seq: entry.seq, digest: entry.digest }
    } catch (err) {
      run.notes.push(`provenance not signed or not audited: ${redact(errText(err))}`)
      deps.log.error({ tool: run.tool, err: redact(errText(err)) }, 'provenance failed')
    }
  }
  result.durationMs = performance.now() - run.t0
  if (deps.log.isLevelEnabled('info')) {
    deps.log.info(
      {
        tool: run.tool,
        status,
        attempts: run.attempts,
        durationMs: Math.round(result.durationMs),
        requestedBy: run.options.requestedBy,
        deliveryId: run.options.deliveryId,
        rule: safeError?.rule,
        reason: safeError?.reason,
      },
      'tool finished',
    )
  }
  return result
}
