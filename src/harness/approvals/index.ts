// Approvals: the router's signed attestations, the worker's check of them, and how verify describes them.
export {
  DEFAULT_LEGACY_GRACE_SECONDS,
  ApprovalGate,
  type ApprovalGateDeps,
  type ApprovalCall,
} from './approval-gate.js'
export {
  APPROVAL_ATTESTATION_TYPE,
  ApprovalAttestation,
  LegacyApproval,
  Approval,
  callDigest,
  attestApproval,
  readAttestation,
  createLegacyApproval,
  legacyApprovalValid,
  type AttestationReading,
} from './approval.js'
export { describeApprovals, type ApprovalDescription } from './describe-approvals.js'
