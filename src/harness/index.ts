export {
  Approval,
  APPROVAL_ATTESTATION_TYPE,
  ApprovalAttestation,
  attestApproval,
  callDigest,
  createLegacyApproval,
  LegacyApproval,
  legacyApprovalValid,
  readAttestation,
  type AttestationReading,
} from './approvals/approval.js'
export {
  MemoryCircuitBreaker,
  RedisCircuitBreaker,
  circuitStates,
  type BreakerDecision,
  type CircuitBreaker,
  type CircuitState,
} from './attempts/circuit-breaker.js'
export { defaultTools } from './default-tools.js'
export { faultOf } from './attempts/fault.js'
export { Harness, type ExecuteOptions, type HarnessOptions, type ToolCall } from './harness.js'
export { House } from './house.js'
export { Mode, ModeName } from './mode.js'
export {
  approvalNeeded,
  checkApproval,
  checkToolAllowed,
  type AcceptedApproval,
  type Denial,
} from './policy-check.js'
export { MemoryReadStore, RedisReadStore, type ReadRecord, type ReadStore } from './read-store.js'
export { capOutput, createRedactor, REDACTED, redactValue } from './redactor.js'
export type { Provenance, ToolResult, ToolResultError, ToolStatus } from './tool-result.js'
export { backoffDelay, isTransient } from './attempts/transient.js'
