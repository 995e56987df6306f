import { Counter, Histogram, type Registry } from 'prom-client'
import type { TelemetryEvent } from '../telemetry/telemetry-event.js'
import type { TelemetrySink } from '../telemetry/telemetry-sink.js'
import { agentTaskOf } from '../agents/task-kind.js'
import { FINAL_STATES } from '../jobs/jobs.js'
import { boundedLabel } from './bounded-label.js'

/** The names job labels may take: anything else is `other`. */
export interface JobVocabulary {
  houses: readonly string[]
  /** Tool names and agent job names (`agent.ask`, ...). */
  tools: readonly string[]
}

/** Job lifecycle metrics, fed by the loop's telemetry events (`observe`). */
export interface JobMetrics {
  /** Counts one telemetry event; events that are not about jobs are ignored. */
  observe(event: TelemetryEvent): void
}

// Seconds: from a quick read tool (tens of ms) to a long agent task (an hour).
const RUN_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600]
const WAIT_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600]
/** How many started runs one process remembers the start of (a run ends in the process that started it). */
const MAX_OPEN_RUNS = 10_000

/**
 * Registers the job metrics: `uw_jobs_finished_total{house,tool,state}`,
 * `uw_job_run_duration_seconds{house,tool}`, `uw_job_queue_wait_seconds{house,tool}` and
 * `uw_agent_runs_total{house,task,outcome}`. They count what this process saw through its
 * telemetry sink (`meteredTelemetry`): each step once, as the stream appends it once.
 *
 * @example
 *   const jobs = registerJobMetrics(registry, { houses: ['ezra'], tools: ['git_status'] })
 *   const telemetry = meteredTelemetry(redisTelemetry, jobs)
 */
export function registerJobMetrics(registry: Registry, vocabulary: JobVocabulary): JobMetrics {
  const house = boundedLabel(vocabulary.houses)
  const tool = boundedLabel(vocabulary.tools)
  const state = boundedLabel(FINAL_STATES)
  const finished = new Counter({
    name: 'uw_jobs_finished_total',
    help: 'Job runs that reached a final state, by house, tool (or agent task) and state.',
    labelNames: ['house', 'tool', 'state'] as const,
    registers: [registry],
  })
  const runDuration = new Histogram({
    name: 'uw_job_run_duration_seconds',
    help: 'Time from a worker starting a run to its final state, by house and tool.',
    labelNames: ['house', 'tool'] as const,
    buckets: RUN_BUCKETS,
    registers: [registry],
  })
  const queueWait = new Histogram({
    name: 'uw_job_queue_wait_seconds',
    help: 'Time from a job being queued to a worker starting it, by house and tool.',
    labelNames: ['house', 'tool'] as const,
    buckets: WAIT_BUCKETS,
    registers: [registry],
  })
  const agentRuns = new Counter({
    name: 'uw_agent_runs_total',
    help: 'Agent task runs that reached a final state, by house, task kind and outcome.',
    labelNames: ['house', 'task', 'outcome'] as const,
    registers: [registry],
  })
  // Run starts seen here, by `<job>.<run>`: the end is timed against them (a run taken over after
  // a crash is timed from the takeover, by the process that took it).
  const started = new Map<string, number>()

  return {
    observe(e) {
      if (e.type === 'job.started') {
        const labels = { house: house(e.house), tool: tool(e.tool) }
        if (e.waitMs !== undefined) queueWait.observe(labels, e.waitMs / 1000)
        if (started.size >= MAX_OPEN_RUNS) started.delete(started.keys().next().value as string)
        started.set(`${e.jobId}.${e.run}`, performance.now())
      } else if (e.type === 'job.finished') {
        const labels = { house: house(e.house), tool: tool(e.tool) }
        finished.inc({ ...labels, state: state(e.state) })
        const task = agentTaskOf(e.tool)
        if (task) agentRuns.inc({ house: labels.house, task, outcome: state(e.state) })
        const key = `${e.jobId}.${e.run}`
        const at = started.get(key)
        if (at !== undefined) {
          started.delete(key)
          runDuration.observe(labels, (performance.now() - at) / 1000)
        }
      }
    },
  }
}

/**
 * A telemetry sink that also feeds the job metrics. Each step is counted once per process, as
 * the stream appends it once: an emit repeated with the same `once` key (a retry, a redelivery)
 * is not counted again.
 *
 * @example
 *   const telemetry = meteredTelemetry(new RedisTelemetry({ ... }), jobMetrics)
 */
export function meteredTelemetry(sink: TelemetrySink, metrics: JobMetrics): TelemetrySink {
  const seen = new Set<string>()
  return {
    emit(event, once) {
      if (once === undefined || !seen.has(once)) {
        if (once !== undefined) {
          if (seen.size >= MAX_OPEN_RUNS * 4) seen.delete(seen.values().next().value as string)
          seen.add(once)
        }
        metrics.observe(event)
      }
      return sink.emit(event, once)
    },
  }
}
