// The reporter: edits each job's comment in place, and the rendering and checking of result comments.
export {
  readResultComment,
  checkResultComment,
  verifyResultComment,
  type ResultComment,
  type CommentMismatch,
  type VerifiedComment,
} from './check-result-comment.js'
export {
  DEFAULT_OUTPUT_CAP,
  DSSE_OPEN,
  DSSE_CLOSE,
  PROVENANCE_TITLE,
  NOTES_TITLE,
  ackMarker,
  ackHeading,
  jobLineStart,
  outputSummary,
  cutNote,
  provenanceLines,
  renderEnvelope,
  renderAck,
  finalReaction,
  type FinalOutcome,
  type AckJob,
  type AckStatus,
} from './render.js'
export { ackBody, startReporter, type ReporterOptions, type RunningReporter } from './reporter.js'
export {
  ackCommentUrl,
  commitStateOf,
  commitStatusEffects,
  statusContext,
  statusDescription,
  statusKey,
  STATUS_CONTEXT_PREFIX,
  STATUS_DESCRIPTION_MAX,
  type StatusJob,
} from './commit-status.js'
export {
  verifyText,
  verifyBareEnvelope,
  verifyComment,
  type TrustedKey,
  type Verdict,
} from './verify-verdict.js'
