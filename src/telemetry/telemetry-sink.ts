import type { TelemetryEvent } from './telemetry-event.js'

/**
 * Where the loop's pieces (executor's jobs, workers, reporter, heartbeats) send telemetry. `emit`
 * never throws: a telemetry write that fails is logged and the job goes on.
 *
 * `once` names the step the event records (`<job>.<run>.<state>`, `<run>.agent.<seq>`...): a second
 * emit with the same key appends nothing, so a step repeated by a retry or a redelivery is
 * appended once.
 *
 * @example
 *   await telemetry.emit({ type: 'job.approved', jobId, run: 1, house, tool, by: 'alice' }, `${jobId}.1.approved`)
 */
export interface TelemetrySink {
  emit(event: TelemetryEvent, once?: string): Promise<void>
}

/** A sink that drops everything: library use, tests that do not look, `telemetry.enabled: false`. */
export const NO_TELEMETRY: TelemetrySink = { emit: () => Promise.resolve() }
