import type { AgentEvent } from '../agents/agent-port.js'
import { jobRef } from '../jobs/job-telemetry.js'
import type { JobRecord } from '../jobs/job-store.js'
import { SUMMARY_CHARS, type TelemetryEvent } from '../telemetry/telemetry-event.js'
import type { TelemetrySink } from '../telemetry/telemetry-sink.js'

/**
 * The telemetry event of one agent event (the `seq`-th of the run's log), or undefined for what the
 * stream does not carry: streamed message parts (only a final message is an event), token usage
 * updates and notes. Text is cut to a short summary; the sink redacts it again.
 */
export function agentTelemetryEvent(
  rec: Pick<JobRecord, 'id' | 'run' | 'house' | 'tool'>,
  e: AgentEvent,
  seq: number,
  redact: (text: string) => string,
): TelemetryEvent | undefined {
  const ref = { ...jobRef(rec), seq }
  switch (e.kind) {
    case 'message':
      if (!e.final) return undefined
      // Redacted whole before the cut, so a secret at the cut is still recognised.
      return {
        type: 'agent.message',
        ...ref,
        chars: e.text.length,
        summary: redact(e.text).slice(0, SUMMARY_CHARS),
        final: true,
      }
    case 'tool.started':
      return { type: 'agent.tool', ...ref, call: e.tool, phase: 'started' }
    case 'tool.finished':
      return {
        type: 'agent.tool',
        ...ref,
        call: e.tool,
        phase: 'finished',
        status: redact(e.status).slice(0, SUMMARY_CHARS),
        ...(e.durationMs !== undefined ? { durationMs: e.durationMs } : {}),
      }
    case 'run.started':
    case 'approval.requested':
    case 'approval.answered':
    case 'stream.lost':
      return { type: 'agent.event', ...ref, kind: e.kind }
    default:
      return undefined
  }
}

/**
 * What an agent run's log calls for each event it stores: the event's telemetry, once per run and
 * position in the log (a worker taking a run over goes on from the stored events' count).
 *
 * @example
 *   new AgentRunLog({ ..., emit: agentTelemetry(jobs.telemetry, rec, redact) })
 */
export function agentTelemetry(
  sink: TelemetrySink,
  rec: Pick<JobRecord, 'id' | 'run' | 'house' | 'tool'>,
  redact: (text: string) => string,
): (e: AgentEvent, seq: number) => Promise<void> {
  return async (e, seq) => {
    const event = agentTelemetryEvent(rec, e, seq, redact)
    if (event) await sink.emit(event, `${rec.id}.${rec.run}.agent.${seq}`)
  }
}
