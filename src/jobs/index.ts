// Job records and the house and report queues (BullMQ), with their Redis scripts.
export {
  HouseJobData,
  ReportData,
  jobDigest,
  BullJobs,
  cancelChannel,
  type ApprovalSigner,
  type BullJobsOptions,
} from './bull-jobs.js'
export {
  JobRecord,
  JOB_TTL_SECONDS,
  recordFromReply,
  RedisJobStore,
  toView,
  type JobPatch,
  type RunProgress,
} from './job-store.js'
export { FINAL_STATES, type JobState, type JobView, type JobsView, type JobsControl } from './jobs.js'
export { StoredResult, storedResult, plainResult } from './stored-result.js'
export { QueueDepths, type QueueDepthsOptions } from './queue-depths.js'
