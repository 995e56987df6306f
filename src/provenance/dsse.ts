import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto'
import { z } from 'zod'
import { sha256Hex } from './canonical-json.js'

/** The DSSE payload type for in-toto statements. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json'

/**
 * A DSSE envelope (https://github.com/secure-systems-lab/dsse/blob/master/envelope.md). Strict:
 * an unknown field is refused, so even a renamed `keyid` (an unsigned hint) fails verification.
 */
export const DsseEnvelope = z.strictObject({
  payloadType: z.string().min(1),
  /** Base64 of the serialized payload bytes. */
  payload: z.string(),
  signatures: z.array(z.strictObject({ keyid: z.string().optional(), sig: z.string().min(1) })).min(1),
})
export type DsseEnvelope = z.infer<typeof DsseEnvelope>

/**
 * DSSE's pre-authentication encoding: `DSSEv1 SP LEN(type) SP type SP LEN(body) SP body`, lengths
 * in ASCII decimal bytes. The signature covers this, never the raw JSON, so the type cannot be swapped.
 */
export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8')
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'utf8'),
    type,
    Buffer.from(` ${payload.length} `, 'utf8'),
    payload,
  ])
}

/** keyid of an ed25519 public key: hex sha256 of its DER SubjectPublicKeyInfo. */
export function keyIdOf(publicKey: KeyObject): string {
  return sha256Hex(publicKey.export({ type: 'spki', format: 'der' }))
}

// keyid per private key: deriving the public key and exporting it cost more than the signature
// itself on every signed result. KeyObjects are immutable, so the id never goes stale.
const signerKeyIds = new WeakMap<KeyObject, string>()

function signerKeyId(privateKey: KeyObject): string {
  let id = signerKeyIds.get(privateKey)
  if (id === undefined) {
    id = keyIdOf(createPublicKey(privateKey))
    signerKeyIds.set(privateKey, id)
  }
  return id
}

/**
 * Signs a payload into a DSSE envelope with an ed25519 private key.
 *
 * @example
 *   const env = signEnvelope(Buffer.from(JSON.stringify(statement)), IN_TOTO_PAYLOAD_TYPE, key.privateKey)
 */
export function signEnvelope(payload: Uint8Array, payloadType: string, privateKey: KeyObject): DsseEnvelope {
  const sig = sign(null, pae(payloadType, payload), privateKey)
  return {
    payloadType,
    payload: Buffer.from(payload).toString('base64'),
    signatures: [{ keyid: signerKeyId(privateKey), sig: sig.toString('base64') }],
  }
}

/** The outcome of verifying an envelope: the decoded payload when valid, a reason when not. */
export type EnvelopeVerification =
  { valid: true; keyid: string; payloadType: string; payload: Buffer } | { valid: false; reason: string }

/**
 * Decodes base64 only in its canonical form. Node's decoder skips bad characters and ignores the
 * unused low bits of the last character, so two different strings can decode to the same bytes;
 * re-encoding and comparing makes every changed character count.
 */
function strictBase64(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64')
  return bytes.toString('base64') === text ? bytes : undefined
}

/**
 * Verifies a DSSE envelope against trusted public keys. Valid when at least one signature verifies
 * with one of the keys (matched by keyid when the signature names one). Never throws for bad input.
 *
 * @example
 *   const v = verifyEnvelope(JSON.parse(text), [housePublicKey])
 *   if (v.valid) console.log(JSON.parse(v.payload.toString('utf8')))
 */
export function verifyEnvelope(envelope: unknown, publicKeys: readonly KeyObject[]): EnvelopeVerification {
  const parsed = DsseEnvelope.safeParse(envelope)
  if (!parsed.success)
    return { valid: false, reason: 'not a DSSE envelope (needs payloadType, payload, signatures)' }
  if (publicKeys.length === 0) return { valid: false, reason: 'no trusted public keys to verify against' }
  const env = parsed.data
  // Buffer.from(…, 'base64') silently skips bad characters; a changed byte must not slip through.
  const payload = strictBase64(env.payload)
  if (!payload) return { valid: false, reason: 'payload is not canonical base64' }
  const message = pae(env.payloadType, payload)
  const keys = publicKeys.map((key) => ({ key, id: keyIdOf(key) }))
  for (const s of env.signatures) {
    const sig = strictBase64(s.sig)
    if (!sig) continue
    for (const k of keys) {
      if (s.keyid && s.keyid !== k.id) continue
      if (verify(null, message, k.key, sig)) {
        return { valid: true, keyid: k.id, payloadType: env.payloadType, payload }
      }
    }
  }
  const named = env.signatures.map((s) => s.keyid).filter(Boolean)
  const known = named.some((id) => keys.some((k) => k.id === id))
  return {
    valid: false,
    reason:
      named.length > 0 && !known
        ? `signed by unknown key ${named.join(', ')}`
        : 'signature does not match the payload (it was changed or signed by another key)',
  }
}
