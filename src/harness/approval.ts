import { sign, verify, type KeyObject } from 'node:crypto'
import { z } from 'zod'
import { canonicalJson, digestOf } from '../provenance/canonical-json.js'
import { keyIdOf, pae } from '../provenance/dsse.js'
import type { HouseKey } from '../provenance/key-store.js'

const APPROVAL_PAYLOAD_TYPE = 'application/vnd.uni-wizard.approval+json'

/**
 * A sovereign's consent to one call: who approved, the digest of the tool and its canonical args,
 * and until when. Signed with the approval key (the timmy house key by default), so an object made
 * by hand, or one with any field edited, does not verify.
 */
export const Approval = z.object({
  approver: z.string().min(1),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  expiresAt: z.iso.datetime({ offset: true }),
  keyid: z.string().min(1),
  signature: z.string().min(1),
})
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

function signedBytes(a: Pick<Approval, 'approver' | 'digest' | 'expiresAt'>): Buffer {
  const body = Buffer.from(canonicalJson({ approver: a.approver, digest: a.digest, expiresAt: a.expiresAt }))
  return pae(APPROVAL_PAYLOAD_TYPE, body)
}

/**
 * Signs an approval. Prefer `harness.approve(...)`, which parses the args with the tool's schema first.
 *
 * @example
 *   createApproval(keys.get('timmy'), { approver: 'alice', digest: callDigest(tool, args), ttlMs: 3_600_000 })
 */
export function createApproval(
  key: Pick<HouseKey, 'privateKey' | 'keyid'>,
  input: { approver: string; digest: string; ttlMs?: number; expiresAt?: Date; now?: Date },
): Approval {
  const expiresAt = (
    input.expiresAt ?? new Date((input.now ?? new Date()).getTime() + (input.ttlMs ?? 3_600_000))
  ).toISOString()
  const body = { approver: input.approver, digest: input.digest, expiresAt }
  return {
    ...body,
    keyid: key.keyid,
    signature: sign(null, signedBytes(body), key.privateKey).toString('base64'),
  }
}

/** Whether an approval's signature verifies with the given public key (never throws). */
export function approvalSignatureValid(approval: unknown, publicKey: KeyObject): boolean {
  const parsed = Approval.safeParse(approval)
  if (!parsed.success) return false
  const a = parsed.data
  if (a.keyid !== keyIdOf(publicKey)) return false
  try {
    const sig = Buffer.from(a.signature, 'base64')
    // Only the canonical encoding counts, so an edited signature string never still verifies.
    if (sig.toString('base64') !== a.signature) return false
    return verify(null, signedBytes(a), publicKey, sig)
  } catch {
    return false
  }
}
