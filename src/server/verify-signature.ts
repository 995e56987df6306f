import { createHmac, timingSafeEqual } from 'node:crypto'

/** The signature headers a delivery may carry, as received (any may be missing or empty). */
export interface SignatureHeaders {
  /** `X-Gitea-Signature`: lowercase hex HMAC-SHA256. */
  gitea: string | undefined
  /** `X-Forgejo-Signature`: the same value, sent by Forgejo. */
  forgejo: string | undefined
  /** `X-Hub-Signature-256`: `sha256=` + the same hex. */
  hub256: string | undefined
}

export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing signature' | 'signature mismatch' }

const HEX64 = /^[0-9a-f]{64}$/i

function candidates(headers: SignatureHeaders): string[] {
  const out: string[] = []
  if (headers.gitea?.trim()) out.push(headers.gitea.trim())
  if (headers.forgejo?.trim()) out.push(headers.forgejo.trim())
  const hub = headers.hub256?.trim()
  // A Hub header without its `sha256=` prefix is not a valid signature; keep it so it fails.
  if (hub && hub !== 'sha256=') out.push(hub.startsWith('sha256=') ? hub.slice(7) : `invalid:${hub}`)
  return out
}

/**
 * Checks a delivery's HMAC-SHA256 over the exact JSON bytes (for a form-encoded delivery, the
 * decoded `payload` value) against every configured secret, in constant time. Every non-empty
 * signature header must match one secret, so a forged header cannot ride along a good one.
 * An empty header counts as missing: Gitea sends empty headers when the hook has no secret.
 *
 * @example
 *   const check = verifySignature(rawBody, { gitea: req.header('x-gitea-signature'), forgejo: undefined,
 *     hub256: undefined }, ['s3cret'])
 *   if (!check.ok) return c.json({ error: check.reason }, 401)
 */
export function verifySignature(
  body: Uint8Array,
  headers: SignatureHeaders,
  secrets: readonly string[],
): SignatureCheck {
  const given = candidates(headers)
  if (given.length === 0) return { ok: false, reason: 'missing signature' }
  const expected = secrets.map((secret) => createHmac('sha256', secret).update(body).digest())
  for (const signature of given) {
    if (!HEX64.test(signature)) return { ok: false, reason: 'signature mismatch' }
    const actual = Buffer.from(signature, 'hex')
    let matched = false
    // Compare against every secret without stopping early, so timing does not reveal which matched.
    for (const digest of expected) matched = timingSafeEqual(actual, digest) || matched
    if (!matched) return { ok: false, reason: 'signature mismatch' }
  }
  return { ok: true }
}

/**
 * The hex signature Gitea would send for a body and secret. For tests, the bench and the Gitea
 * double's webhook sender.
 *
 * @example
 *   headers['X-Gitea-Signature'] = signBody(json, 'webhook-test-secret')
 */
export function signBody(body: string | Uint8Array, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('hex')
}
