// Prometheus metrics of the bot loop: definitions in one place, registered on a Registry the process owns.
export { registerMetrics, type MetricSources, type UwMetrics } from './register-metrics.js'
export { registerWorkersAlive, type WorkersAliveSource } from './workers-alive.js'
export { registerJobMetrics, meteredTelemetry, type JobMetrics, type JobVocabulary } from './job-metrics.js'
export {
  registerQueueMetrics,
  QUEUE_STATES,
  type QueueDepth,
  type QueueDepthSource,
  type QueueState,
} from './queue-metrics.js'
export { registerCircuitMetrics, type CircuitSource, type CircuitStateName } from './circuit-metrics.js'
export { registerAgentMetrics, type AgentMetrics, type BudgetSource } from './agent-metrics.js'
export { registerGiteaMetrics, type GiteaMetrics } from './gitea-metrics.js'
export { registerRedisUp } from './redis-metrics.js'
export { registerStressMetrics, type StressSource } from './stress-metrics.js'
export { boundedLabel, OTHER } from './bounded-label.js'
