import type { KeyObject } from 'node:crypto'
import type { HousePolicy } from '../houses/house-policy.js'
import { toolMatches } from '../houses/tool-glob.js'
import type { ToolSpec } from '../tools/tool.js'
import { Approval, approvalSignatureValid } from './approval.js'
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

/**
 * Checks an approval for one call. Order matters for the message: a forged approval is reported
 * as forged, not as "wrong approver", because none of its fields can be trusted.
 */
export function checkApproval(input: {
  policy: HousePolicy
  mode: Mode
  tool: ToolSpec
  digest: string
  requestedBy: string
  approval: unknown
  approvalKey: KeyObject | undefined
  now: number
}): Denial | undefined {
  const { policy, tool } = input
  const sovereigns = policy.sovereigns.length > 0 ? policy.sovereigns.join(', ') : 'none configured'
  const why =
    input.mode === 'sovereign'
      ? 'SOVEREIGN mode'
      : `houses.${policy.name}.approvalRequired is ${policy.approvalRequired}`
  if (input.approval === undefined) {
    return {
      rule: 'approval-required',
      reason: `${tool.name} in house ${policy.name} needs a sovereign's approval (${why})`,
      fix:
        policy.sovereigns.length > 0
          ? `a sovereign (${sovereigns}) approves this exact call (/approve, or harness.approve())`
          : `add Gitea logins to houses.${policy.name}.sovereigns, then have one approve the call`,
    }
  }
  if (!input.approvalKey || !approvalSignatureValid(input.approval, input.approvalKey)) {
    return {
      rule: 'approval-forged',
      reason: 'the approval is not signed by the approval key (made by hand or edited)',
      fix: 'create approvals with harness.approve() or createApproval() and pass them unchanged',
    }
  }
  const a = Approval.parse(input.approval)
  // Gitea logins are case-insensitive; the command side compares them so too (context.ts).
  const approver = a.approver.toLowerCase()
  if (!policy.sovereigns.some((s) => s.toLowerCase() === approver)) {
    return {
      rule: 'approver-not-sovereign',
      reason: `${a.approver} is not a sovereign of house ${policy.name} (sovereigns: ${sovereigns})`,
      fix: `ask one of the sovereigns to approve, or add ${a.approver} to houses.${policy.name}.sovereigns`,
    }
  }
  if (approver === input.requestedBy.toLowerCase() && !policy.allowSelfApproval) {
    return {
      rule: 'self-approval',
      reason: `${a.approver} requested this call and cannot also approve it`,
      fix: `another sovereign approves it, or set houses.${policy.name}.allowSelfApproval: true`,
    }
  }
  if (a.digest !== input.digest) {
    return {
      rule: 'approval-digest',
      reason: `the approval is for a different call (digest ${a.digest.slice(0, 19)}…, this call ${input.digest.slice(0, 19)}…)`,
      fix: 'approve this exact tool and arguments',
    }
  }
  if (Date.parse(a.expiresAt) <= input.now) {
    return {
      rule: 'approval-expired',
      reason: `the approval by ${a.approver} expired at ${a.expiresAt}`,
      fix: 'ask for a fresh approval',
    }
  }
  return undefined
}
