import type { Registry } from 'prom-client'
import { registerAgentMetrics, type AgentMetrics, type BudgetSource } from './agent-metrics.js'
import { registerCircuitMetrics, type CircuitSource } from './circuit-metrics.js'
import { registerGiteaMetrics, type GiteaMetrics } from './gitea-metrics.js'
import { registerJobMetrics, type JobMetrics, type JobVocabulary } from './job-metrics.js'
import { registerQueueMetrics, type QueueDepthSource } from './queue-metrics.js'
import { registerRedisUp } from './redis-metrics.js'
import { registerWorkersAlive } from './workers-alive.js'

/** What the scrape-time metrics read, and the names labels are limited to. */
export interface MetricSources {
  /** Configured houses and known tools (plus agent job names); other values are labelled `other`. */
  vocabulary: JobVocabulary
  /** Live workers of a house (its heartbeats). */
  workersAlive(house: string): Promise<number>
  queues: QueueDepthSource
  circuits: CircuitSource
  /** The daily budgets of the houses with an agent. */
  budgets: readonly BudgetSource[]
  /** PING on the process's Redis connection. */
  pingRedis(): Promise<unknown>
  /** The Gitea route templates calls are labelled with (src/gitea `GITEA_ROUTES`). */
  giteaRoutes: readonly string[]
}

/** The metrics the loop's pieces feed as they work (the others are read at scrape time). */
export interface UwMetrics {
  /** Fed by the telemetry sink (`meteredTelemetry`). */
  jobs: JobMetrics
  /** Fed by the token budgets. */
  agents: AgentMetrics
  /** Fed by the Gitea port (`meteredGitea`). */
  gitea: GiteaMetrics
}

/**
 * Registers every metric of the bot loop on `registry` (docs/OPERATIONS.md, "Metrics"): jobs,
 * queues, workers alive, circuits, agents, Gitea calls and Redis. A process serves the registry
 * at `/metrics` (serve) or on its own port (a worker-only process). The ingress' own metrics
 * are registered by `createIngressMetrics`.
 *
 * @example
 *   const metrics = registerMetrics(registry, sources)
 *   const telemetry = meteredTelemetry(sink, metrics.jobs)
 */
export function registerMetrics(registry: Registry, sources: MetricSources): UwMetrics {
  registerWorkersAlive(registry, { houses: sources.vocabulary.houses, workersAlive: sources.workersAlive })
  registerQueueMetrics(registry, sources.queues)
  registerCircuitMetrics(registry, sources.circuits)
  registerRedisUp(registry, sources.pingRedis)
  return {
    jobs: registerJobMetrics(registry, sources.vocabulary),
    agents: registerAgentMetrics(registry, sources.budgets),
    gitea: registerGiteaMetrics(registry, sources.giteaRoutes),
  }
}
