import type { KeyObject } from 'node:crypto'
import { readAttestation } from './approval.js'
import { keyIdOf } from '../../provenance/dsse.js'

/** One approval of a verified statement, as `verify` shows it. */
export interface ApprovalDescription {
  approver: string
  /** `attested`: a router attestation that verifies with a trusted router key; otherwise why not. */
  check: 'attested' | 'unverified-router' | 'bad-attestation' | 'legacy' | 'no-attestation'
  routerKeyid?: string
  /** One line for people. */
  text: string
}

const Rec = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {}

/**
 * Who attested what, for each approval a (house-signed, already verified) statement records. A
 * router attestation is checked again with the router public keys given: the house's signature
 * says the house accepted it, the router's says the router saw it.
 *
 * @example
 *   for (const a of describeApprovals(statement, [routerPub])) console.log(a.text)
 *   // approved by @sage (sovereign of bezalel) in http://gitea/o/r/issues/1#issuecomment-7 at …, attested by router 3f2a… (signature valid)
 */
export function describeApprovals(
  statement: unknown,
  routerKeys: readonly KeyObject[],
): ApprovalDescription[] {
  const approvals = Rec(Rec(statement).predicate).approvals
  if (!Array.isArray(approvals)) return []
  const routerIds = new Set(routerKeys.map((k) => keyIdOf(k)))
  return approvals.map((raw): ApprovalDescription => {
    const a = Rec(raw)
    const recorded = String(a.approver ?? '?')
    if (a.kind === 'legacy') {
      return {
        approver: recorded,
        check: 'legacy',
        text: `approved by @${recorded} with a legacy approval (house key ${short(a.keyid)}), not attested by a router`,
      }
    }
    if (a.attestation === undefined) {
      return {
        approver: recorded,
        check: 'no-attestation',
        text: `approved by @${recorded}; no router attestation recorded (made before router attestations)`,
      }
    }
    const reading = readAttestation(a.attestation, routerKeys)
    if (!reading.valid) {
      const unknownRouter = typeof a.keyid === 'string' && !routerIds.has(a.keyid)
      return {
        approver: recorded,
        check: unknownRouter ? 'unverified-router' : 'bad-attestation',
        routerKeyid: typeof a.keyid === 'string' ? a.keyid : undefined,
        text: unknownRouter
          ? `approved by @${recorded}, attested by router ${short(a.keyid)}: not checked (that router's public key is not here; pass its _router.pub)`
          : `approved by @${recorded}: the router attestation does NOT verify (${reading.reason})`,
      }
    }
    const t = reading.attestation
    const where = t.comment ? ` in ${t.comment.url}` : ''
    const job = t.jobId ? ` for job ${t.jobId}${t.runId && t.runId !== t.jobId ? ` run ${t.runId}` : ''}` : ''
    const mismatch = t.approver !== recorded ? ` (the statement says @${recorded}: MISMATCH)` : ''
    return {
      approver: t.approver,
      check: mismatch ? 'bad-attestation' : 'attested',
      routerKeyid: reading.keyid,
      text: `approved by @${t.approver} (sovereign of ${t.role.sovereignOf})${job}${where} at ${t.observedAt}, attested by router ${short(reading.keyid)} (signature valid; until ${t.expiresAt})${mismatch}`,
    }
  })
}

function short(keyid: unknown): string {
  return typeof keyid === 'string' ? `${keyid.slice(0, 12)}…` : '?'
}
