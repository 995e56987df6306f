import { z } from 'zod'

/** The most characters of free text (an agent's message, a tool's status) an event carries. */
export const SUMMARY_CHARS = 200

const Text = z.string().max(SUMMARY_CHARS)
const Ms = z.number().nonnegative()

// What every job event names: the job, its run (1 + retries), the house and the tool or task.
const JobFields = {
  jobId: z.string().min(1),
  run: z.number().int().positive(),
  house: z.string().min(1),
  tool: z.string().min(1),
}

/**
 * One telemetry event, as appended to `<prefix>:telemetry` (docs/TELEMETRY.md). Events carry ids,
 * names, states and durations; free text only as a short summary, redacted before it is stored.
 * Tool output and an agent's full text never enter the stream.
 *
 * @example
 *   TelemetryEvent.parse({ type: 'job.queued', jobId: 'j1', run: 1, house: 'ezra', tool: 'git_status',
 *     mode: 'SIMPLE', requester: 'alice' })
 */
export const TelemetryEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('job.queued'), ...JobFields, mode: z.string(), requester: z.string() }),
  z.object({
    type: z.literal('job.approval_asked'),
    ...JobFields,
    approvers: z.array(z.string()),
    expiresAt: z.string().optional(),
  }),
  z.object({ type: z.literal('job.approved'), ...JobFields, by: z.string() }),
  z.object({ type: z.literal('job.started'), ...JobFields, worker: z.string(), waitMs: Ms.optional() }),
  z.object({ type: z.literal('tool.started'), ...JobFields }),
  z.object({
    type: z.literal('tool.finished'),
    ...JobFields,
    status: z.string(),
    durationMs: Ms,
    attempts: z.number().int().nonnegative(),
  }),
  /** An agent's message: its length and a short redacted start, never the whole text. */
  z.object({
    type: z.literal('agent.message'),
    ...JobFields,
    seq: z.number().int().nonnegative(),
    chars: z.number().int().nonnegative(),
    summary: Text,
    final: z.boolean(),
  }),
  /** A tool call of an agent (`tool` is the task; `call` the tool it called). */
  z.object({
    type: z.literal('agent.tool'),
    ...JobFields,
    seq: z.number().int().nonnegative(),
    call: z.string(),
    phase: z.enum(['started', 'finished']),
    status: Text.optional(),
    durationMs: Ms.optional(),
  }),
  /** Any other agent event (usage, approval asked or answered, stream lost): its kind only. */
  z.object({
    type: z.literal('agent.event'),
    ...JobFields,
    seq: z.number().int().nonnegative(),
    kind: z.string(),
    totalTokens: z.number().int().nonnegative().optional(),
  }),
  z.object({
    type: z.literal('proof.result'),
    ...JobFields,
    name: z.string(),
    passed: z.boolean(),
    exitCode: z.number().int().nullable(),
    timedOut: z.boolean(),
    durationMs: Ms,
  }),
  z.object({
    type: z.literal('job.finished'),
    ...JobFields,
    state: z.string(),
    /** From the run's start (or its creation, when it never started) to its end. */
    durationMs: Ms,
    reason: Text.optional(),
  }),
  z.object({ type: z.literal('report.posted'), ...JobFields, state: z.string() }),
  z.object({ type: z.literal('house.heartbeat_gained'), house: z.string().min(1), worker: z.string() }),
  z.object({
    type: z.literal('house.heartbeat_lost'),
    house: z.string().min(1),
    worker: z.string(),
    why: z.enum(['expired', 'stopped']),
  }),
])
export type TelemetryEvent = z.infer<typeof TelemetryEvent>

/** Every event type, for `?type=` and the docs. */
export const TELEMETRY_TYPES = TelemetryEvent.options.map((o) => o.shape.type.value)
export type TelemetryType = TelemetryEvent['type']

/** An event as read back from the stream: its stream id (`<ms>-<seq>`) and when it was appended. */
export type StoredTelemetryEvent = TelemetryEvent & { id: string; at: string }
