// Effects (what handlers decide) and their exactly-once application through the Gitea port.
export {
  DEFAULT_LEDGER_TTL_SECONDS,
  RedisEffectLedger,
  MemoryEffectLedger,
  type LedgerEntry,
  type EffectLedger,
} from './effect-ledger.js'
export {
  type JobMode,
  type JobOrigin,
  type ApprovalComment,
  type ApprovalPolicy,
  type JobRequest,
  type Effect,
  type EffectType,
} from './effects.js'
export { EffectsError, keyMarker, Executor, type AppliedEffect, type ExecutorDeps } from './executor.js'
export { commentKey, jobIdFor, type KeySource } from './idempotency.js'
