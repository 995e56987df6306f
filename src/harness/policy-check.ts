import type { KeyObject } from 'node:crypto'
import type { HousePolicy } from '../houses/house-policy.js'
import { toolMatches } from '../houses/tool-glob.js'
import type { ToolSpec } from '../tools/tool.js'
import type { DsseEnvelope } from '../provenance/dsse.js'
import { LegacyApproval, legacyApprovalValid, readAttestation } from './approvals/approval.js'
import type { Mode } from './mode.js'
import type { ToolResultError } from './tool-result.js'

/** A refusal: the rule that refused and how to satisfy it. */
export type Denial = Required<Pick<ToolResultError, 'reason' | 'rule' | 'fix'>>

/** Refuses a tool the house may not run, or a write in a read-only house. */
export function checkToolAllowed(policy: HousePolicy, tool: ToolSpec): Denial | undefined {
  if (!toolMatches(tool.name, policy.tools)) {
    return {
      rule: 'tool-not-allowed',
      reason: `house ${policy.name} may not run ${tool.name} (allowed: ${policy.tools.join(', ')})`,
      fix: `run it in a house whose tools include it, or add it to houses.${policy.name}.tools`,
    }
  }
  if (policy.readOnly && tool.access === 'write') {
    return {
      rule: 'read-only-house',
      reason: `house ${policy.name} never runs write tools and ${tool.name} writes`,
      fix: 'run it in a house that may write (e.g. bezalel or ezra)',
    }
  }
  return undefined
}

/** Whether this call needs a sovereign's approval. */
export function approvalNeeded(policy: HousePolicy, mode: Mode, tool: ToolSpec): boolean {
  return (
    mode === 'sovereign' ||
    policy.approvalRequired === 'all' ||
    (policy.approvalRequired === 'writes' && tool.access === 'write')
  )
}

/** An approval that passed every check, as the provenance statement records it. */
export interface AcceptedApproval {
  approver: string
  digest: string
  expiresAt: string
  keyid: string
  /** `router-attestation`, or `legacy` (a house-key approval, accepted only when configured). */
  kind: 'router-attestation' | 'legacy'
  house?: string
  jobId?: string
  runId?: string
  comment?: { id?: number; url: string }
  observedAt?: string
  /** The router's signed attestation, unchanged, so `verify` can check it again. */
  attestation?: DsseEnvelope
}

/** What an approval says, once its signature is known good. */
interface Claim {
  approver: string
  digest: string
  expiresAt: string
  house?: string
  jobId?: string
  runId?: string
}

/**
 * Checks an approval for one call: a router attestation signed by a trusted router key (or a
 * legacy approval signed by `legacyKey`, with `acceptLegacy` or inside `legacyWindow`), for this
 * house, this job and run, this exact call, by one of THIS house's sovereigns (the router's claim
 * of the role is not trusted), not by the requester unless the house allows it, and not expired.
 *
 * Order matters for the message: a forged approval is reported as forged, not as "wrong
 * approver", because none of its fields can be trusted.
 */
export function checkApproval(input: {
  policy: HousePolicy
  mode: Mode
  tool: ToolSpec
  digest: string
  requestedBy: string
  approval: unknown
  /** Router public keys this harness trusts. */
  routerKeys: readonly KeyObject[]
  /** Why a configured router key is not trusted, for the refusal's message. */
  routerKeyProblems?: readonly string[]
  /** `keys.acceptLegacyApprovals`: also accept the old format, signed by `legacyKey`, whatever its expiry. */
  acceptLegacy?: boolean
  /**
   * The upgrade window: without `acceptLegacy`, a legacy approval signed by `legacyKey` counts only
   * when it expires at or before `notAfter` (ms), so it was issued before this key directory had a
   * router key. `since` dates that, for the refusal's message.
   */
  legacyWindow?: { notAfter: number; since: string }
  /** The house key (timmy's) that signed legacy approvals. */
  legacyKey?: KeyObject
  /** The job and run this call belongs to; an attestation must name the same (or none, for none). */
  job?: { id: string; runId?: string }
  now: number
}): { denial: Denial } | { accepted: AcceptedApproval } {
  const { policy, tool } = input
  const sovereigns = policy.sovereigns.length > 0 ? policy.sovereigns.join(', ') : 'none configured'
  const why =
    input.mode === 'sovereign'
      ? 'SOVEREIGN mode'
      : `houses.${policy.name}.approvalRequired is ${policy.approvalRequired}`
  if (input.approval === undefined) {
    return {
      denial: {
        rule: 'approval-required',
        reason: `${tool.name} in house ${policy.name} needs a sovereign's approval (${why})`,
        fix:
          policy.sovereigns.length > 0
            ? `a sovereign (${sovereigns}) approves this exact call (/approve, or harness.approve())`
            : `add Gitea logins to houses.${policy.name}.sovereigns, then have one approve the call`,
      },
    }
  }
  let claim: Claim
  let accepted: Omit<AcceptedApproval, keyof Claim>
  const legacy = LegacyApproval.safeParse(input.approval)
  if (legacy.success) {
    const window = input.acceptLegacy ? undefined : input.legacyWindow
    if (!input.acceptLegacy && !window)
      return {
        denial: legacyRefused(
          ", and this worker's key directory dates no upgrade from that key (_router.created)",
        ),
      }
    if (!input.legacyKey)
      return { denial: forged('the legacy approval key (timmy.pub) is not in the key directory') }
    if (!legacyApprovalValid(input.approval, input.legacyKey))
      return { denial: forged('not signed by the legacy approval key') }
    // Checked once the signature is known good, so the expiry it reads is the one that was signed.
    if (window && Date.parse(legacy.data.expiresAt) > window.notAfter) {
      const until = new Date(window.notAfter).toISOString()
      return {
        denial: legacyRefused(
          `; it expires at ${legacy.data.expiresAt}, after ${until}, so it was not issued before this worker's upgrade to router attestations (${window.since})`,
        ),
      }
    }
    claim = legacy.data
    accepted = { kind: 'legacy', keyid: legacy.data.keyid }
  } else {
    if (input.routerKeys.length === 0) {
      const problems = input.routerKeyProblems?.length ? ` (${input.routerKeyProblems.join('; ')})` : ''
      return {
        denial: {
          rule: 'approval-untrusted',
          reason: `this worker trusts no router key, so no approval can be checked${problems}`,
          fix: "copy the router's _router.pub (`uni-wizard keys --router` on the router's machine) into this worker's keys.dir, or list it in keys.routerPublicKeys",
        },
      }
    }
    const reading = readAttestation(input.approval, input.routerKeys)
    if (!reading.valid) return { denial: forged(reading.reason) }
    const a = reading.attestation
    claim = a
    accepted = {
      kind: 'router-attestation',
      keyid: reading.keyid,
      comment: a.comment,
      observedAt: a.observedAt,
      attestation: input.approval as DsseEnvelope,
    }
  }
  if (accepted.kind === 'router-attestation' && claim.house !== policy.name) {
    return {
      denial: {
        rule: 'approval-house',
        reason: `the approval is for house ${claim.house}, not ${policy.name}`,
        fix: `a sovereign of house ${policy.name} approves this call`,
      },
    }
  }
  if (
    accepted.kind === 'router-attestation' &&
    (claim.jobId !== input.job?.id || (input.job?.runId !== undefined && claim.runId !== input.job.runId))
  ) {
    const named = (j: { id?: string; runId?: string } | undefined) =>
      j?.id ? `job ${j.id}${j.runId ? ` run ${j.runId}` : ''}` : 'no job'
    return {
      denial: {
        rule: 'approval-job',
        reason: `the approval is for ${named({ id: claim.jobId, runId: claim.runId })}, this call belongs to ${named(input.job)}`,
        fix: 'approve this job (`/approve <job>`)',
      },
    }
  }
  // Gitea logins are case-insensitive; the command side compares them so too (context.ts).
  const approver = claim.approver.toLowerCase()
  if (!policy.sovereigns.some((s) => s.toLowerCase() === approver)) {
    return {
      denial: {
        rule: 'approver-not-sovereign',
        reason: `${claim.approver} is not a sovereign of house ${policy.name} (sovereigns: ${sovereigns})`,
        fix: `ask one of the sovereigns to approve, or add ${claim.approver} to houses.${policy.name}.sovereigns`,
      },
    }
  }
  if (approver === input.requestedBy.toLowerCase() && !policy.allowSelfApproval) {
    return {
      denial: {
        rule: 'self-approval',
        reason: `${claim.approver} requested this call and cannot also approve it`,
        fix: `another sovereign approves it, or set houses.${policy.name}.allowSelfApproval: true`,
      },
    }
  }
  if (claim.digest !== input.digest) {
    return {
      denial: {
        rule: 'approval-digest',
        reason: `the approval is for a different call (digest ${claim.digest.slice(0, 19)}…, this call ${input.digest.slice(0, 19)}…)`,
        fix: 'approve this exact tool and arguments',
      },
    }
  }
  if (Date.parse(claim.expiresAt) <= input.now) {
    return {
      denial: {
        rule: 'approval-expired',
        reason: `the approval by ${claim.approver} expired at ${claim.expiresAt}`,
        fix: 'ask for a fresh approval',
      },
    }
  }
  return {
    accepted: {
      approver: claim.approver,
      digest: claim.digest,
      expiresAt: claim.expiresAt,
      ...(claim.house === undefined ? {} : { house: claim.house }),
      ...(claim.jobId === undefined ? {} : { jobId: claim.jobId }),
      ...(claim.runId === undefined ? {} : { runId: claim.runId }),
      ...accepted,
    },
  }
}

function legacyRefused(detail: string): Denial {
  return {
    rule: 'approval-legacy',
    reason: `the approval is in the old format (signed with a house key, not attested by the router), and keys.acceptLegacyApprovals is off${detail}`,
    fix: 'ask for a fresh approval (`/retry` the job, then `/approve` it), or set keys.acceptLegacyApprovals: true for the duration of an upgrade',
  }
}

function forged(detail: string): Denial {
  return {
    rule: 'approval-forged',
    reason: `the approval does not verify: ${detail} (made by hand, edited, or signed by an untrusted key)`,
    fix: 'approvals come from the router (`/approve`) or harness.approve(); pass them unchanged',
  }
}
