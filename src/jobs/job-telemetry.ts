import type { TelemetryEvent } from '../telemetry/telemetry-event.js'
import type { JobRecord } from './job-store.js'

/**
 * What every job event names: the job, its run, house and tool (or agent task).
 *
 * @example
 *   telemetry.emit({ type: 'tool.started', ...jobRef(rec) }, `${rec.id}.${rec.run}.tool.started`)
 */
export function jobRef(rec: Pick<JobRecord, 'id' | 'run' | 'house' | 'tool'>): {
  jobId: string
  run: number
  house: string
  tool: string
} {
  return { jobId: rec.id, run: rec.run, house: rec.house, tool: rec.tool }
}

/**
 * `job.finished` of an ended record: its state, why (the result's reason, else the record's), and
 * the time from its start (or creation) to its end.
 */
export function jobFinishedEvent(rec: JobRecord, now: number, reason = rec.reason): TelemetryEvent {
  const end = rec.finishedAt ? Date.parse(rec.finishedAt) : now
  const start = Date.parse(rec.startedAt ?? rec.createdAt)
  return {
    type: 'job.finished',
    ...jobRef(rec),
    state: rec.state,
    durationMs: Number.isFinite(end - start) ? Math.max(0, end - start) : 0,
    ...(reason ? { reason } : {}),
  }
}
