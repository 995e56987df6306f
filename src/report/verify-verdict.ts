import type { KeyObject } from 'node:crypto'
import { verifyEnvelope, type DsseEnvelope } from '../provenance/dsse.js'
import { parseEnvelopeJson } from '../provenance/find-envelope.js'
import { verifyResultComment } from './check-result-comment.js'

/** A public key trusted to sign results, and whose it is (a house, or the file it came from). */
export interface TrustedKey {
  house: string
  key: KeyObject
}

/** What verifying the input found: a valid signature (and comment), or the reason it is not. */
export type Verdict =
  | { valid: true; signer: string; keyid: string; statement: unknown; checked: string; remarks: string[] }
  | { valid: false; reason: string }

/** The signature: which trusted key signed the envelope, and its payload. */
function checkSignature(
  envelope: DsseEnvelope,
  keys: readonly TrustedKey[],
): { valid: true; signer: string; keyid: string; payload: string } | { valid: false; reason: string } {
  const v = verifyEnvelope(
    envelope,
    keys.map((k) => k.key),
  )
  if (!v.valid) return v
  const signer = keys.find((k) => verifyEnvelope(envelope, [k.key]).valid)?.house ?? v.keyid
  return { valid: true, signer, keyid: v.keyid, payload: v.payload.toString('utf8') }
}

/** An envelope on its own: only its signature can be checked. */
export function verifyBareEnvelope(envelope: DsseEnvelope, keys: readonly TrustedKey[]): Verdict {
  const sig = checkSignature(envelope, keys)
  if (!sig.valid) return sig
  let statement: unknown
  try {
    statement = JSON.parse(sig.payload)
  } catch {
    statement = sig.payload
  }
  return { ...sig, statement, checked: 'the envelope alone (no comment was given to check)', remarks: [] }
}

/** A bot result comment: its one envelope, its signature, and what it shows (`verifyResultComment`). */
export function verifyComment(text: string, keys: readonly TrustedKey[]): Verdict {
  const r = verifyResultComment(
    text,
    keys.map((k) => k.key),
  )
  if (!r.ok) return { valid: false, reason: `${r.field}: ${r.problem}` }
  const signer = keys.find((k) => verifyEnvelope(r.envelope, [k.key]).valid)?.house ?? r.keyid
  return {
    valid: true,
    signer,
    keyid: r.keyid,
    statement: r.payload,
    checked:
      'the comment: job id, status, tool, house, requester, mode, output and every provenance line match the statement',
    remarks: r.remarks,
  }
}

/**
 * What `uni-wizard verify` checks, for any text: a bare DSSE envelope (JSON) by its signature
 * alone; anything else as a bot result comment (its one envelope, its signature, and that the
 * comment shows what the statement signs). The dashboard's job and verify pages use the same.
 *
 * @example
 *   const v = verifyText(commentMarkdown, [{ house: 'ezra', key: ezraPub }])
 *   if (!v.valid) console.error(v.reason)
 */
export function verifyText(text: string, keys: readonly TrustedKey[]): Verdict {
  const bare = parseEnvelopeJson(text)
  return bare ? verifyBareEnvelope(bare, keys) : verifyComment(text, keys)
}
