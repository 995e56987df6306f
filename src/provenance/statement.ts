import { z } from 'zod'

/** The in-toto Statement v1 type URI. */
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1'
/** The predicate type of a uni-wizard execution record. */
export const PREDICATE_TYPE = 'https://uni-wizard.dev/provenance/v1'

/** What a uni-wizard execution predicate holds (see docs/HARNESS.md). */
export const ExecutionPredicate = z.object({
  requestedBy: z.string(),
  house: z.string(),
  mode: z.string(),
  tool: z.string(),
  argsDigest: z.string(),
  /**
   * Approvals the house accepted. A router attestation is kept whole (`attestation`, a DSSE
   * envelope signed by the router key), so `verify` can show who attested what; `keyid` is then
   * the router's key, for a legacy approval the approving house key's.
   */
  approvals: z.array(
    z.object({
      approver: z.string(),
      digest: z.string(),
      expiresAt: z.string(),
      keyid: z.string().optional(),
      kind: z.enum(['router-attestation', 'legacy']).optional(),
      house: z.string().optional(),
      jobId: z.string().optional(),
      runId: z.string().optional(),
      comment: z.object({ id: z.number().optional(), url: z.string() }).optional(),
      observedAt: z.string().optional(),
      attestation: z.unknown().optional(),
    }),
  ),
  host: z.string(),
  versions: z.object({ uniWizard: z.string(), node: z.string() }),
  startedAt: z.string(),
  finishedAt: z.string(),
  attempts: z.number().int().nonnegative(),
  status: z.string(),
  evidence: z.array(
    z.object({ kind: z.string(), summary: z.string(), detail: z.record(z.string(), z.unknown()) }),
  ),
  requestUrl: z.string().optional(),
  deliveryId: z.string().optional(),
  error: z.string().optional(),
})
export type ExecutionPredicate = z.infer<typeof ExecutionPredicate>

/** An in-toto Statement v1 whose subject is the output digest and predicate an execution record. */
export const ExecutionStatement = z.object({
  _type: z.literal(STATEMENT_TYPE),
  subject: z.array(z.object({ name: z.string(), digest: z.record(z.string(), z.string()) })).min(1),
  predicateType: z.literal(PREDICATE_TYPE),
  predicate: ExecutionPredicate,
})
export type ExecutionStatement = z.infer<typeof ExecutionStatement>

/**
 * Builds the statement for one execution.
 *
 * @example
 *   buildStatement({ outputSha256, predicate: { requestedBy: 'alice', house: 'timmy', … } })
 */
export function buildStatement(input: {
  outputSha256: string
  predicate: ExecutionPredicate
}): ExecutionStatement {
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: `${input.predicate.tool}.output`, digest: { sha256: input.outputSha256 } }],
    predicateType: PREDICATE_TYPE,
    predicate: input.predicate,
  }
}
