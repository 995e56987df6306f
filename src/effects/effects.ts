import type { CommitState, Reaction, RepoRef } from '../gitea/port.js'
import type { TriageRecord } from '../triage/triage-record.js'

/** Modes a job can run in (the harness's Mode, by name). */
export type JobMode = 'SIMPLE' | 'INTELLIGENT' | 'SOVEREIGN'

/**
 * What a job checks out (the same shape as `CheckoutTarget` in src/checkouts/, declared here so
 * the command side does not depend on the checkout machinery): the default branch for an issue,
 * the head commit the comment was written against for a pull request, or a ref named with `/run`.
 */
export type JobCheckoutTarget =
  | { kind: 'default'; branch: string }
  | { kind: 'pull'; number: number; headSha: string; baseRef: string }
  | { kind: 'ref'; ref: string }

/** Where a job works: its own checkout of the repository its command was written in. */
export interface JobCheckout {
  /** The http(s) clone URL from the Gitea API, without credentials. */
  cloneUrl: string
  target: JobCheckoutTarget
  /**
   * The repository's default branch when the target is not it (a pull request, a ref), from the
   * Gitea API at enqueue: the worker reads `.uni-wizard.yaml` from it (docs/CONFIG.md).
   */
  defaultBranch?: string
}

/** Who asked for a job and from where: the origin half of its provenance. */
export interface JobOrigin {
  deliveryId: string
  repo: RepoRef
  issue: number
  /** Undefined when the command was in an issue or PR body. */
  commentId: number | undefined
  commentUrl: string
  /** The command line as written. */
  command: string
}

/** The comment a sovereign approved a job in, as the router's approval attestation names it. */
export interface ApprovalComment {
  /** Absent when the command was in an issue or pull request body. */
  id?: number
  url: string
}

/** Whether a job must wait for a sovereign's `/approve`, who may give it, and for how long it holds. */
export interface ApprovalPolicy {
  required: boolean
  /** The sovereigns of the job's house (the worker's harness accepts no one else). */
  approvers: string[]
  ttlSeconds: number
  /** Whether the requester may approve their own job (the house's `allowSelfApproval`); default false. */
  allowSelfApproval?: boolean
}

/** Everything a house worker needs to run one job. */
export interface JobRequest {
  /** Idempotency key from delivery + comment + command index; the BullMQ jobId. */
  jobId: string
  house: string
  /** Job name = tool name. */
  tool: string
  /** `key=value` arguments as written; the tool's zod schema parses them at the worker. */
  args: Record<string, string>
  /** `--mode` if given, else the house's default mode; always SOVEREIGN on a sovereign house (approval was decided on it). */
  mode: JobMode
  dryRun: boolean
  requester: { login: string; id: number }
  origin: JobOrigin
  approval: ApprovalPolicy
  /** Ledger key of the ack comment the reporter edits in place. */
  ackCommentKey: string
  /** Why this house (`named in the command`, ...), shown again when the ack comment is edited. */
  houseReason?: string
  /** INTELLIGENT mode: the prediction shown in the ack (`likely to succeed: ...`), kept for its edits. */
  prediction?: string
  /**
   * The checkout the job runs in; absent for a house that works in its static `workspaceRoots`
   * (and for jobs queued before checkouts existed).
   */
  checkout?: JobCheckout
}

/**
 * What handlers and commands ask for. One executor applies them (src/effects/executor.ts); a
 * handler never calls Gitea or the queues itself, so dry-run is a flag and tests compare lists.
 */
export type Effect =
  | {
      type: 'comment'
      repo: RepoRef
      issue: number
      /** Idempotency key (see `commentKey`): a comment with this key is posted at most once. */
      key: string
      body: string
    }
  | {
      type: 'editComment'
      repo: RepoRef
      /** The comment: by id, or by the key it was posted under. */
      target: { commentId: number } | { key: string }
      body: string
    }
  | { type: 'react'; repo: RepoRef; target: { commentId: number } | { issue: number }; reaction: Reaction }
  /** Label names; the executor resolves them to ids and adds only the missing ones. */
  | { type: 'addLabels'; repo: RepoRef; issue: number; labels: string[] }
  | { type: 'removeLabels'; repo: RepoRef; issue: number; labels: string[] }
  | { type: 'assign'; repo: RepoRef; issue: number; assignees: string[] }
  | { type: 'enqueueJob'; job: JobRequest }
  | { type: 'cancelJob'; jobId: string; by: string; reason: string | undefined }
  /** `key` makes the retry itself idempotent (delivery + comment + command index). */
  | { type: 'retryJob'; jobId: string; by: string; byId?: number; key: string }
  /**
   * Bound to the job's digest as the approver saw it: a changed job is not approved. `comment` is
   * the `/approve` comment, named in the router's signed attestation.
   */
  | { type: 'approveJob'; jobId: string; by: string; digest: string; comment?: ApprovalComment }
  | { type: 'denyJob'; jobId: string; by: string; reason: string | undefined }
  | {
      type: 'setCommitStatus'
      repo: RepoRef
      sha: string
      state: CommitState
      context: string
      description?: string
      targetUrl?: string
    }
  /** What triage applied and why; written after the labels so it never claims more than is there. */
  | { type: 'recordTriage'; record: TriageRecord }
  | { type: 'log'; level: 'debug' | 'info' | 'warn'; message: string; data?: Record<string, unknown> }

export type EffectType = Effect['type']
