import type { RedisClient } from '../queue/connection.js'
import type { CommentEvent } from '../events/comment-event.js'
import { DEFAULT_PREFIX } from '../queue/connection.js'

/** How long a comment stays claimed by its first delivery (as long as the effect ledger keeps keys). */
export const DEFAULT_CLAIM_TTL_SECONDS = 30 * 24 * 3600

/**
 * Which delivery first brought each comment. Gitea's "Redeliver" sends a copy under a NEW
 * delivery id, which defeats the ingress dedupe and every key built from it; without a claim a
 * redelivered `/approve` could approve a later run, and a redelivered `/run` would run again.
 * A BullMQ retry of the same delivery keeps its claim, so retries still re-apply their effects.
 */
export interface CommentClaims {
  /** True when this delivery may handle the comment (it is the first, or it already holds the claim). */
  claim(key: string, deliveryId: string): Promise<boolean>
}

/**
 * The claim key of a comment event: the comment id (unique per Gitea instance), or the issue or
 * pull request body (unique per repository and number).
 *
 * @example
 *   claimKey(event) // 'comment:4711' or 'body:alice/demo#3'
 */
export function claimKey(event: {
  commentId: CommentEvent['commentId']
  repo: Pick<CommentEvent['repo'], 'fullName'>
  issue: Pick<CommentEvent['issue'], 'number'>
}): string {
  return event.commentId !== undefined
    ? `comment:${event.commentId}`
    : `body:${event.repo.fullName}#${event.issue.number}`
}

/**
 * Claims in Redis: `SET NX` with the delivery id, then compare.
 *
 * @example
 *   const claims = new RedisCommentClaims(redis, '{uw}')
 *   if (await claims.claim(claimKey(event), event.deliveryId)) runCommands()
 */
export class RedisCommentClaims implements CommentClaims {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = DEFAULT_PREFIX,
    private readonly ttlSeconds = DEFAULT_CLAIM_TTL_SECONDS,
  ) {}

  async claim(key: string, deliveryId: string): Promise<boolean> {
    const k = `${this.prefix}:claim:${key}`
    const set = await this.redis.set(k, deliveryId, 'EX', this.ttlSeconds, 'NX')
    if (set === 'OK') return true
    return (await this.redis.get(k)) === deliveryId
  }
}

/** In-memory claims, for tests and single-process tools. */
export class MemoryCommentClaims implements CommentClaims {
  private readonly owners = new Map<string, string>()

  async claim(key: string, deliveryId: string): Promise<boolean> {
    const owner = this.owners.get(key)
    if (owner === undefined) {
      this.owners.set(key, deliveryId)
      return true
    }
    return owner === deliveryId
  }
}
