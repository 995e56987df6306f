import { z } from 'zod'

// Only the fields the bot reads from Gitea 1.26.3 webhook payloads. Unknown keys are stripped,
// so a queued job carries about a fifth of the delivery. Every schema also accepts the older
// captured deliveries (no `is_pull`, no `issue.html_url`, `null` lists), and every transform is
// idempotent: the router re-parses the job data with the same schemas.

/** `null` or a missing list becomes `[]` (Gitea writes `null` for empty slices). */
function list<T extends z.ZodType>(item: T) {
  return z
    .array(item)
    .nullish()
    .transform((v) => v ?? [])
}

/** `null` or a missing text becomes `''`. */
const text = z
  .string()
  .nullish()
  .transform((v) => v ?? '')

export const User = z.object({ id: z.number().int(), login: z.string() })
export type User = z.infer<typeof User>

export const Label = z.object({ id: z.number().int(), name: z.string() })
export type Label = z.infer<typeof Label>

export const Repository = z.object({
  id: z.number().int(),
  name: z.string(),
  full_name: z.string(),
  owner: z.object({ login: z.string() }),
  html_url: z.string(),
  default_branch: z.string().optional(),
})
export type Repository = z.infer<typeof Repository>

/** `changes` on an `edited` action: the previous title or body. */
export const Changes = z.object({
  title: z.object({ from: z.string() }).optional(),
  body: z.object({ from: z.string() }).optional(),
})
export type Changes = z.infer<typeof Changes>

export const Issue = z.object({
  id: z.number().int(),
  number: z.number().int(),
  title: z.string(),
  body: text,
  state: z.string(),
  /** Missing in pre-1.x samples; build it from the repository URL then. */
  html_url: z.string().optional(),
  user: User,
  labels: list(Label),
  assignees: list(User),
  /** Present (non-null) when the issue is a pull request. */
  pull_request: z.object({ merged: z.boolean().optional() }).nullish(),
})
export type Issue = z.infer<typeof Issue>

export const Comment = z.object({
  id: z.number().int(),
  body: text,
  html_url: z.string(),
  user: User,
})
export type Comment = z.infer<typeof Comment>

export const PullRequest = z.object({
  /** Missing in the drone-era legacy sample; the payload's top-level `number` always has it. */
  number: z.number().int().optional(),
  title: z.string(),
  body: text,
  state: z.string(),
  html_url: z.string(),
  user: User,
  labels: list(Label),
  merged: z.boolean().optional(),
  draft: z.boolean().optional(),
  head: z.object({ ref: z.string(), sha: z.string() }),
  base: z.object({ ref: z.string(), sha: z.string() }),
})
export type PullRequest = z.infer<typeof PullRequest>

const common = {
  action: z.string().min(1),
  repository: Repository,
  sender: User,
}

/** Gitea's IssuePayload: events `issues`, `issue_assign`, `issue_label`, `issue_milestone`. */
export const IssuesPayload = z.object({
  ...common,
  issue: Issue,
  changes: Changes.optional(),
})
export type IssuesPayload = z.infer<typeof IssuesPayload>

/** Gitea's IssueCommentPayload: events `issue_comment` and `pull_request_comment`. */
export const IssueCommentPayload = z.object({
  ...common,
  issue: Issue,
  comment: Comment,
  /** Missing before Gitea 1.13; then `issue.pull_request` tells. */
  is_pull: z.boolean().optional(),
  changes: Changes.optional(),
})
export type IssueCommentPayload = z.infer<typeof IssueCommentPayload>

/** Gitea's PullRequestPayload: `pull_request` and its `_assign`, `_label`, `_sync`, `_review_*` kin. */
export const PullRequestPayload = z.object({
  ...common,
  number: z.number().int(),
  pull_request: PullRequest,
  changes: Changes.optional(),
  requested_reviewer: User.nullish(),
  review: z.object({ type: z.string(), content: text }).nullish(),
})
export type PullRequestPayload = z.infer<typeof PullRequestPayload>

/** Fine-grained `X-Gitea-Event-Type` values carried by IssuePayload. */
export const IssuesEventType = z.enum(['issues', 'issue_assign', 'issue_label', 'issue_milestone'])
export type IssuesEventType = z.infer<typeof IssuesEventType>

/** Fine-grained `X-Gitea-Event-Type` values carried by IssueCommentPayload. */
export const CommentEventType = z.enum(['issue_comment', 'pull_request_comment'])
export type CommentEventType = z.infer<typeof CommentEventType>

/** Fine-grained `X-Gitea-Event-Type` values carried by PullRequestPayload. */
export const PullRequestEventType = z.enum([
  'pull_request',
  'pull_request_assign',
  'pull_request_label',
  'pull_request_milestone',
  'pull_request_sync',
  'pull_request_review_request',
  'pull_request_review_approved',
  'pull_request_review_rejected',
  'pull_request_review_comment',
])
export type PullRequestEventType = z.infer<typeof PullRequestEventType>

/** Every event the ingress queues; anything else is acknowledged and ignored. */
export type SupportedEvent = IssuesEventType | CommentEventType | PullRequestEventType

const jobBase = {
  /** X-Gitea-Delivery. */
  deliveryId: z.string().min(1),
  action: z.string().min(1),
  /** When the ingress accepted the delivery (ISO 8601). */
  receivedAt: z.iso.datetime(),
}

/**
 * The data of a job on the `events` queue: one accepted webhook delivery, reduced to the fields
 * the bot reads. Whoever takes a job off the queue parses it again with this schema.
 *
 * @example
 *   const job = EventJob.parse(bullJob.data)
 *   if (job.event === 'issue_comment') console.log(job.payload.comment.body)
 */
export const EventJob = z.discriminatedUnion('event', [
  z.object({ ...jobBase, event: IssuesEventType, payload: IssuesPayload }),
  z.object({ ...jobBase, event: CommentEventType, payload: IssueCommentPayload }),
  z.object({ ...jobBase, event: PullRequestEventType, payload: PullRequestPayload }),
])
export type EventJob = z.infer<typeof EventJob>

const payloadByEvent = new Map<string, z.ZodType>([
  ...IssuesEventType.options.map((e) => [e, IssuesPayload] as const),
  ...CommentEventType.options.map((e) => [e, IssueCommentPayload] as const),
  ...PullRequestEventType.options.map((e) => [e, PullRequestPayload] as const),
])

/**
 * True for the event types the bot queues.
 *
 * @example
 *   isSupportedEvent('issue_label') // true
 *   isSupportedEvent('push') // false
 */
export function isSupportedEvent(event: string): event is SupportedEvent {
  return payloadByEvent.has(event)
}

/** The first problem zod found, as a dotted path (`issue.number`) and a message. */
export interface PayloadProblem {
  path: string
  message: string
}

/**
 * Parses a decoded payload for a supported event into the stripped shape stored in EventJob.
 *
 * @example
 *   const r = parsePayload('issues', JSON.parse(raw))
 *   if (!r.ok) reply(422, r.problem.path)
 */
export function parsePayload(
  event: SupportedEvent,
  payload: unknown,
): { ok: true; payload: EventJob['payload'] } | { ok: false; problem: PayloadProblem } {
  const schema = payloadByEvent.get(event)
  if (!schema) throw new Error(`no payload schema for event ${event}`)
  const result = schema.safeParse(payload)
  if (result.success) return { ok: true, payload: result.data as EventJob['payload'] }
  const first = result.error.issues[0]
  return {
    ok: false,
    problem: {
      path: first && first.path.length > 0 ? first.path.map(String).join('.') : '(root)',
      message: first?.message ?? 'invalid payload',
    },
  }
}
