import { z } from 'zod'
import { sha256Hex } from './canonical-json.js'

/** The in-toto Statement v1 type URI. */
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1'
/** The predicate type of a uni-wizard execution record. */
export const PREDICATE_TYPE = 'https://uni-wizard.dev/provenance/v1'

/**
 * An in-toto ResourceDescriptor (the fields the bot fills): what a run worked on, e.g. the commit
 * of the job's checkout, `{ uri: 'git+https://gitea.example.com/acme/api.git@<sha>', digest:
 * { gitCommit: '<sha>' } }`.
 */
export const ResourceDescriptor = z.object({
  uri: z.string().optional(),
  digest: z.record(z.string(), z.string()).optional(),
  name: z.string().optional(),
  annotations: z.record(z.string(), z.unknown()).optional(),
})
export type ResourceDescriptor = z.infer<typeof ResourceDescriptor>

/** The signed facts of an agent task: see `ExecutionPredicate.agent`. */
export const AgentFacts = z.object({
  task: z.enum(['ask', 'implement', 'review']),
  backend: z.string(),
  model: z.string().optional(),
  /** The backend's own id of the run (Hermes `run_…`, or the loop's). */
  runId: z.string().optional(),
  /** sha256 of the instructions and input the agent got (canonical JSON). */
  promptSha256: z.string(),
  /** sha256 of the stored event log (one canonical JSON line per event), and how many events. */
  eventLog: z.object({ sha256: z.string(), events: z.number().int().nonnegative() }),
  usage: z.object({
    inputTokens: z.number().int().nonnegative(),
    outputTokens: z.number().int().nonnegative(),
    totalTokens: z.number().int().nonnegative(),
  }),
  turns: z.number().int().nonnegative(),
  /** sha256 of the diff the task produced (`/implement`), from the commit it started on. */
  diffSha256: z.string().optional(),
  /** The pull request it opened or found (`/implement`), or reviewed (`/review`). */
  pullRequest: z.object({ number: z.number().int().positive(), url: z.string() }).optional(),
  /** Files the agent read, with the digest of what it read (Ezra's read-before-write evidence). */
  filesRead: z.array(z.object({ path: z.string(), sha256: z.string() })).optional(),
})
export type AgentFacts = z.infer<typeof AgentFacts>

/** What a uni-wizard execution predicate holds (see docs/HARNESS.md). */
export const ExecutionPredicate = z.object({
  requestedBy: z.string(),
  house: z.string(),
  mode: z.string(),
  /**
   * Set when the call ran in another mode than asked for (`mode` is the one it ran in): `from` the
   * mode asked for, and why (`event-loop lag 240 ms > 200 ms`). Absent otherwise and in older statements.
   */
  degraded: z.object({ from: z.string(), reason: z.string() }).optional(),
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
  /**
   * The repository's proof commands run after the tool (`.uni-wizard.yaml`, docs/CONFIG.md), one
   * entry each. Absent in statements from before proof commands and when none ran, so those
   * statements parse and verify as before.
   */
  proof: z
    .array(
      z.object({
        kind: z.literal('proof-command'),
        summary: z.string(),
        detail: z.object({
          name: z.string(),
          argv: z.array(z.string()),
          exitCode: z.number().int().nullable(),
          signal: z.string().nullable(),
          durationMs: z.number().nonnegative(),
          stdoutSha256: z.string(),
          stderrSha256: z.string(),
          timedOut: z.boolean(),
        }),
      }),
    )
    .optional(),
  requestUrl: z.string().optional(),
  deliveryId: z.string().optional(),
  error: z.string().optional(),
  /** The bot's job id (absent in statements signed before it was added, and outside the bot). */
  jobId: z.string().optional(),
  /** For a `/retry`: the job retried and who asked for it first (`requestedBy` is who retried). */
  retryOf: z.object({ jobId: z.string(), requestedBy: z.string() }).optional(),
  /**
   * The output's length, and when a comment shows only its start, that start's length and
   * digest, so a cut comment can still be checked (the subject's digest covers all of it).
   */
  output: z
    .object({
      chars: z.number().int().nonnegative(),
      shown: z.object({ chars: z.number().int().nonnegative(), sha256: z.string() }).optional(),
    })
    .optional(),
  /**
   * What the run worked on, as in-toto ResourceDescriptors (SLSA's name): for a job in a checkout,
   * the commit it ran on (`digest.gitCommit`). Absent outside checkouts and in older statements.
   */
  resolvedDependencies: z.array(ResourceDescriptor).optional(),
  /**
   * For an agent task (`/ask`, `/implement`, `/review`, docs/AGENTS.md): which agent ran it and
   * the digests that pin what it was told, what it did and what it handed back. Absent for tools.
   */
  agent: AgentFacts.optional(),
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

/**
 * The start of `text` a comment shows under a cap of `cap` UTF-16 units, never splitting a
 * surrogate pair (half a character would not survive the trip through Gitea, and the digest of
 * what is shown would no longer match).
 *
 * @example
 *   shownOutput('abcdef', 4) // 'abcd'
 */
export function shownOutput(text: string, cap: number): string {
  if (text.length <= cap) return text
  let end = Math.max(0, cap)
  const last = text.charCodeAt(end - 1)
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end--
  return text.slice(0, end)
}

/**
 * The output facts a statement signs: the subject digest (all of the output) and, when a comment
 * shows at most `shownCap` characters of it, the digest of the part it shows.
 *
 * @example
 *   outputFacts('x'.repeat(10), 4).output // { chars: 10, shown: { chars: 4, sha256: '…' } }
 */
export function outputFacts(
  text: string,
  shownCap?: number,
): { sha256: string; output: NonNullable<ExecutionPredicate['output']> } {
  const sha256 = sha256Hex(text)
  if (shownCap === undefined || text.length <= shownCap) return { sha256, output: { chars: text.length } }
  const shown = shownOutput(text, shownCap)
  return { sha256, output: { chars: text.length, shown: { chars: shown.length, sha256: sha256Hex(shown) } } }
}
