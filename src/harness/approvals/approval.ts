import { sign, verify, type KeyObject } from 'node:crypto'
import { z } from 'zod'
import { canonicalJson, digestOf } from '../../provenance/canonical-json.js'
import { DsseEnvelope, keyIdOf, pae, signEnvelope, verifyEnvelope } from '../../provenance/dsse.js'
import type { RouterKey } from '../../provenance/key-store.js'

/** DSSE payload type of an approval attestation (signed by a router key). */
export const APPROVAL_ATTESTATION_TYPE = 'application/vnd.uni-wizard.approval-attestation+json'

/** Payload type of the legacy approval, signed with a house key (before router attestations). */
const LEGACY_APPROVAL_TYPE = 'application/vnd.uni-wizard.approval+json'

const Digest = z.string().regex(/^sha256:[0-9a-f]{64}$/)

/**
 * What a router saw and signs: "@approver, a sovereign of house `house` as the router's config
 * said, approved the call with `digest` (of job `jobId`, run `runId`) in `comment` at
 * `observedAt`; valid until `expiresAt`". Strict: an unknown field is refused. A worker re-checks
 * `approver` against its own house's sovereigns; `role` is only what the router claimed.
 */
export const ApprovalAttestation = z.strictObject({
  approver: z.string().min(1),
  role: z.strictObject({ sovereignOf: z.string().min(1) }),
  house: z.string().min(1),
  /** The job and run it approves; absent for an approval made outside the bot (library, CLI). */
  jobId: z.string().min(1).optional(),
  runId: z.string().min(1).optional(),
  digest: Digest,
  /** The `/approve` comment. */
  comment: z.strictObject({ id: z.number().int().optional(), url: z.string().min(1) }).optional(),
  observedAt: z.iso.datetime({ offset: true }),
  expiresAt: z.iso.datetime({ offset: true }),
})
export type ApprovalAttestation = z.infer<typeof ApprovalAttestation>

/**
 * The approval format before router attestations: signed with a house key (timmy's), bound to a
 * call but not to a house or a job. Accepted only with `keys.acceptLegacyApprovals: true`.
 */
export const LegacyApproval = z.object({
  approver: z.string().min(1),
  digest: Digest,
  expiresAt: z.iso.datetime({ offset: true }),
  keyid: z.string().min(1),
  signature: z.string().min(1),
})
export type LegacyApproval = z.infer<typeof LegacyApproval>

/** An approval as passed to `execute`: a router attestation (DSSE envelope), or a legacy approval. */
export const Approval = z.union([DsseEnvelope, LegacyApproval])
export type Approval = z.infer<typeof Approval>

/**
 * Digest of one call: sha256 of the canonical JSON of `{ tool, args }` (args after the tool's schema
 * applied defaults, so equivalent spellings of a call share a digest).
 *
 * @example
 *   callDigest('git_push', { repoPath: '/srv/r', remote: 'origin' })
 */
export function callDigest(tool: string, args: unknown): string {
  return digestOf({ tool, args })
}

/**
 * What an implementation's push and pull request are approved by: the task and the sha256 of the
 * exact diff (a diff that changes after the approval needs a new one).
 *
 * @example
 *   taskDiffDigest('agent.implement', 'ab12…') // 'sha256:…'
 */
export function taskDiffDigest(task: string, diffSha256: string): string {
  return digestOf({ task, diff: diffSha256 })
}

/**
 * Signs an approval attestation with the router's key. Prefer `harness.approve(...)` in a library,
 * which parses the args with the tool's schema first; the bot's router calls this with what it
 * observed on the `/approve` comment.
 *
 * @example
 *   attestApproval(keys.router(), { approver: 'alice', house: 'bezalel', digest, jobId: 'j1', runId: 'j1',
 *     comment: { id: 42, url }, ttlMs: 3_600_000 })
 */
export function attestApproval(
  key: Pick<RouterKey, 'privateKey'>,
  input: {
    approver: string
    house: string
    digest: string
    jobId?: string
    runId?: string
    comment?: { id?: number; url: string }
    ttlMs?: number
    expiresAt?: Date
    now?: Date
  },
): DsseEnvelope {
  const now = input.now ?? new Date()
  const expiresAt = (input.expiresAt ?? new Date(now.getTime() + (input.ttlMs ?? 3_600_000))).toISOString()
  const statement: ApprovalAttestation = ApprovalAttestation.parse({
    approver: input.approver,
    role: { sovereignOf: input.house },
    house: input.house,
    jobId: input.jobId,
    runId: input.runId,
    digest: input.digest,
    comment: input.comment && {
      url: input.comment.url,
      ...(input.comment.id === undefined ? {} : { id: input.comment.id }),
    },
    observedAt: now.toISOString(),
    expiresAt,
  })
  return signEnvelope(Buffer.from(canonicalJson(statement)), APPROVAL_ATTESTATION_TYPE, key.privateKey)
}

/** An attestation read back: what it says and which router key signed it, or why it does not count. */
export type AttestationReading =
  { valid: true; attestation: ApprovalAttestation; keyid: string } | { valid: false; reason: string }

/**
 * Verifies an approval attestation against trusted router keys and parses what it says. Never
 * throws for bad input.
 *
 * @example
 *   const r = readAttestation(envelope, [routerPublicKey])
 *   if (r.valid) console.log(r.attestation.approver, r.keyid)
 */
export function readAttestation(envelope: unknown, routerKeys: readonly KeyObject[]): AttestationReading {
  const v = verifyEnvelope(envelope, routerKeys)
  if (!v.valid) return v
  if (v.payloadType !== APPROVAL_ATTESTATION_TYPE)
    return { valid: false, reason: `payload type ${v.payloadType} is not an approval attestation` }
  let body: unknown
  try {
    body = JSON.parse(v.payload.toString('utf8'))
  } catch {
    return { valid: false, reason: 'the attestation payload is not JSON' }
  }
  const parsed = ApprovalAttestation.safeParse(body)
  if (!parsed.success)
    return { valid: false, reason: 'the attestation payload is not an approval attestation' }
  return { valid: true, attestation: parsed.data, keyid: v.keyid }
}

function legacySignedBytes(a: Pick<LegacyApproval, 'approver' | 'digest' | 'expiresAt'>): Buffer {
  const body = Buffer.from(canonicalJson({ approver: a.approver, digest: a.digest, expiresAt: a.expiresAt }))
  return pae(LEGACY_APPROVAL_TYPE, body)
}

/**
 * Signs a legacy approval with a house key, as versions before router attestations did. Kept for
 * migration tests and for tools that must talk to old workers; new code uses `attestApproval`.
 */
export function createLegacyApproval(
  key: { privateKey: KeyObject; keyid: string },
  input: { approver: string; digest: string; ttlMs?: number; expiresAt?: Date; now?: Date },
): LegacyApproval {
  const expiresAt = (
    input.expiresAt ?? new Date((input.now ?? new Date()).getTime() + (input.ttlMs ?? 3_600_000))
  ).toISOString()
  const body = { approver: input.approver, digest: input.digest, expiresAt }
  return {
    ...body,
    keyid: key.keyid,
    signature: sign(null, legacySignedBytes(body), key.privateKey).toString('base64'),
  }
}

/** Whether a legacy approval's signature verifies with the given public key (never throws). */
export function legacyApprovalValid(approval: unknown, publicKey: KeyObject): boolean {
  const parsed = LegacyApproval.safeParse(approval)
  if (!parsed.success) return false
  const a = parsed.data
  if (a.keyid !== keyIdOf(publicKey)) return false
  try {
    const sig = Buffer.from(a.signature, 'base64')
    // Only the canonical encoding counts, so an edited signature string never still verifies.
    if (sig.toString('base64') !== a.signature) return false
    return verify(null, legacySignedBytes(a), publicKey, sig)
  } catch {
    return false
  }
}
