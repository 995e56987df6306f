/**
 * One shape for every piece of text people write at the bot: an issue or pull request body,
 * an issue comment or a pull request comment (Prow's GenericCommentEvent). Command parsing
 * only ever sees this.
 */
export interface CommentEvent {
  /** X-Gitea-Delivery of the webhook this came from. */
  deliveryId: string
  /** Where the text came from. */
  source: 'issue_body' | 'issue_comment' | 'pull_request_body' | 'pull_request_comment'
  /** `created` is the only action that runs commands; edits and deletes are ignored. */
  action: 'created' | 'edited' | 'deleted'
  repo: { owner: string; name: string; fullName: string }
  issue: { number: number; title: string; isPull: boolean; htmlUrl: string; labels: string[]; state: string }
  /** The comment id, or undefined when the text is the issue/PR body. */
  commentId: number | undefined
  /** The comment's (or body's) URL, for provenance and replies. */
  htmlUrl: string
  author: { login: string; id: number }
  body: string
}
