// Running a tool's attempts: deadlines, transient retries, the fault rule and the circuit breaker.
export { runAttempts, type AttemptDeps, type AttemptCall, type AttemptOutcome } from './attempts.js'
export { acquireGate, recordGate, type BreakerGateDeps, type Gate } from './breaker-gate.js'
export {
  MemoryCircuitBreaker,
  RedisCircuitBreaker,
  circuitStates,
  type CircuitState,
  type BreakerDecision,
  type CircuitBreaker,
} from './circuit-breaker.js'
export { faultOf } from './fault.js'
export { isTransient, backoffDelay } from './transient.js'
export { AttemptAbort, withDeadline } from './with-deadline.js'
