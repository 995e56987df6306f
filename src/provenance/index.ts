export {
  AuditEntry,
  FileAuditLog,
  GENESIS_DIGEST,
  RedisAuditLog,
  verifyAuditChain,
  type AuditLog,
  type AuditLocated,
  type AuditVerification,
} from './audit-log.js'
export { canonicalJson, digestOf, sha256Hex } from './canonical-json.js'
export {
  DsseEnvelope,
  IN_TOTO_PAYLOAD_TYPE,
  keyIdOf,
  pae,
  signEnvelope,
  verifyEnvelope,
  type EnvelopeVerification,
} from './dsse.js'
export { parseEnvelopeJson } from './find-envelope.js'
export { defaultKeyDir, KeyStore, RouterKeyRecord, type HouseKey } from './key-store.js'
export {
  buildStatement,
  ExecutionPredicate,
  ExecutionStatement,
  outputFacts,
  PREDICATE_TYPE,
  ResourceDescriptor,
  shownOutput,
  STATEMENT_TYPE,
} from './statement.js'
