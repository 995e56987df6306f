import type { KeyObject } from 'node:crypto'
import type { HarnessConfig } from '../../houses/harness-config.js'
import type { HousePolicy } from '../../houses/house-policy.js'
import { keyIdOf } from '../../provenance/dsse.js'
import type { KeyStore } from '../../provenance/key-store.js'
import { trustedRouterKeys } from '../../provenance/router-keys.js'
import type { ToolSpec } from '../../tools/tool.js'
import { LegacyApproval, taskDiffDigest } from './approval.js'
import type { ExecuteOptions } from '../harness-options.js'
import type { Mode } from '../mode.js'
import { approvalNeeded, checkApproval, type AcceptedApproval, type Denial } from '../policy-check.js'

/** Write tools whose effect stays in the working copy they run in (an agent task's own checkout). */
export const CHECKOUT_WRITES: ReadonlySet<string> = new Set(['file_write', 'git_commit', 'git_checkout'])

/** `keys.legacyApprovalGraceSeconds` when unset: the default `commands.approvalTtlSeconds`, a day. */
export const DEFAULT_LEGACY_GRACE_SECONDS = 86_400

/** What the approval gate needs from the harness. */
export interface ApprovalGateDeps {
  policy: HousePolicy
  /** The `keys` section of the harness config. */
  keysConfig: HarnessConfig['keys']
  /** The key directory; called only when a key is needed (it is created on first use). */
  keys: () => KeyStore
  /** The house whose public key verifies legacy approvals. */
  approvalKeyHouse: string
  /** Router keys given to the harness, replacing the configured ones. */
  givenRouterKeys: readonly KeyObject[] | undefined
  now: () => number
}

/** The call to check: its tool, its call digest, and the run it belongs to. */
export interface ApprovalCall {
  spec: ToolSpec
  digest: string
  mode: Mode
  options: ExecuteOptions
}

/**
 * Checks a sovereign's approval when the house policy or the mode needs one, against the router
 * keys this harness trusts (found once, then cached) and, for legacy approvals, the upgrade
 * window of the key directory. The rules themselves are `checkApproval` (policy-check.ts).
 *
 * @example
 *   const gate = new ApprovalGate({ policy, keysConfig: config.keys, keys: () => keyStore, … })
 *   const denial = gate.check({ spec, digest, mode, options }, run.approvals)
 */
export class ApprovalGate {
  private routerTrust: { keys: KeyObject[]; problems: string[] } | undefined

  constructor(private readonly deps: ApprovalGateDeps) {}

  /**
   * The denial of a call whose approval is needed and missing or not good, or undefined (an
   * accepted approval is pushed onto `approvals`).
   */
  check(call: ApprovalCall, approvals: AcceptedApproval[]): Denial | undefined {
    const { spec, mode, options } = call
    const { policy } = this.deps
    if (!approvalNeeded(policy, mode, spec)) return undefined
    // A step of an agent task that stays in the job's own checkout (a read, or a write there) is
    // covered by the task having been allowed to start; what leaves it needs its own approval.
    if (options.task && (spec.access === 'read' || CHECKOUT_WRITES.has(spec.name))) return undefined
    const trust = options.approval === undefined ? { keys: [], problems: [] } : this.routerKeys()
    const legacy = LegacyApproval.safeParse(options.approval).success
    const legacyKey = legacy ? this.deps.keys().publicKey(this.deps.approvalKeyHouse) : undefined
    const checked = checkApproval({
      policy,
      mode,
      tool: spec,
      // An implementation's push and pull request are approved together, bound to the exact diff.
      digest:
        options.task?.diff !== undefined ? taskDiffDigest(options.task.tool, options.task.diff) : call.digest,
      requestedBy: options.requestedBy,
      approval: options.approval,
      routerKeys: trust.keys,
      routerKeyProblems: trust.problems,
      acceptLegacy: this.deps.keysConfig.acceptLegacyApprovals,
      legacyKey,
      legacyWindow: legacy ? this.legacyWindow(legacyKey) : undefined,
      job: options.job,
      now: this.deps.now(),
    })
    if ('denial' in checked) return checked.denial
    approvals.push(checked.accepted)
    return undefined
  }

  /**
   * The router keys this harness trusts for approvals, and why a configured one is not trusted.
   * The first time the key directory trusts one, it records so (`_router.created`, once): from
   * then on the worker has been upgraded, which bounds the legacy approvals it still accepts.
   */
  routerKeys(): { keys: KeyObject[]; problems: string[] } {
    const { givenRouterKeys } = this.deps
    if (givenRouterKeys) return { keys: [...givenRouterKeys], problems: [] }
    // Cached once a key is found; looked up again while none is (it may be copied in later).
    if (this.routerTrust && this.routerTrust.keys.length > 0) return this.routerTrust
    const keys = this.deps.keys()
    const configured = this.deps.keysConfig.routerPublicKeys
    this.routerTrust = trustedRouterKeys(keys, configured)
    if (this.routerTrust.keys.length > 0 && !keys.routerKeyRecord()) {
      // `_router.pub` copied in by an operator is dated by its file (never later than now).
      const copied = configured?.length ? undefined : keys.routerPublicKeyTime()
      keys.recordRouterKey(copied)
    }
    return this.routerTrust
  }

  /** Forgets the trusted router keys, so a router key made just now is trusted from now on. */
  forgetRouterKeys(): void {
    this.routerTrust = undefined
  }

  /**
   * The upgrade window for legacy approvals signed by `legacyKey`: they count while they expire no
   * later than `_router.created` plus `keys.legacyApprovalGraceSeconds`, and only when that key
   * was already in the directory when the record was made (so an install that never had legacy
   * approvals accepts none).
   */
  private legacyWindow(legacyKey: KeyObject | undefined): { notAfter: number; since: string } | undefined {
    const record = this.deps.keys().routerKeyRecord()
    if (!record || !legacyKey || !record.houseKeyids.includes(keyIdOf(legacyKey))) return undefined
    const grace = this.deps.keysConfig.legacyApprovalGraceSeconds ?? DEFAULT_LEGACY_GRACE_SECONDS
    return { notAfter: Date.parse(record.since) + grace * 1000, since: record.since }
  }
}
