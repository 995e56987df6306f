import { createHash } from 'node:crypto'

/** Where a command came from: enough to key everything it causes. */
export interface KeySource {
  deliveryId: string
  /** Undefined for an issue or PR body. */
  commentId: number | undefined
}

function part(s: string): string {
  // Keys end up in Redis keys and in HTML comments: keep them to a safe alphabet.
  return s.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/-{2,}/g, '-')
}

/**
 * The idempotency key of a comment the bot posts because of one incoming comment, for one purpose
 * (`ack:0`, `unknown`, `rate-limit`, ...). Re-handling the same delivery yields the same key, so the
 * executor posts it once.
 *
 * @example
 *   commentKey({ deliveryId: 'd1', commentId: 7 }, 'ack:0') // 'c:d1:7:ack_0'
 */
export function commentKey(src: KeySource, purpose: string): string {
  return `c:${part(src.deliveryId)}:${src.commentId ?? 'body'}:${part(purpose)}`
}

/**
 * The job id of a job an event starts without a command (an assignment, a label), per purpose
 * (`assign:bezalel`): the same delivery gives the same id, and it never equals a command's.
 *
 * @example
 *   jobIdForEvent('d1', 'assign:bezalel') // 'j' + 12 hex characters
 */
export function jobIdForEvent(deliveryId: string, purpose: string): string {
  const digest = createHash('sha256').update(`${deliveryId}\u0000event\u0000${purpose}`).digest('hex')
  return `j${digest.slice(0, 12)}`
}

/**
 * The job id for the command at `index` in a comment: a short digest of delivery + comment + index,
 * short enough to type in `/status <job>` and free of `:` (BullMQ refuses `:` in custom ids).
 *
 * @example
 *   jobIdFor({ deliveryId: 'd1', commentId: 7 }, 0) // 'j' + 12 hex characters
 */
export function jobIdFor(src: KeySource, index: number): string {
  const digest = createHash('sha256')
    .update(`${src.deliveryId}\u0000${src.commentId ?? 'body'}\u0000${index}`)
    .digest('hex')
  return `j${digest.slice(0, 12)}`
}
