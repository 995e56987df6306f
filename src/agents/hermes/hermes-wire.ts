import { z } from 'zod'

/**
 * What the Hermes API server sends, as the client reads it (CONTRACT.md in ../shared/hermes).
 * Only the fields the backend reads; unknown keys are tolerated everywhere (`looseObject`),
 * because builds differ and add keys (§9).
 */

export const HermesUsage = z.looseObject({
  input_tokens: z.number().nonnegative().optional(),
  output_tokens: z.number().nonnegative().optional(),
  total_tokens: z.number().nonnegative().optional(),
})
export type HermesUsage = z.infer<typeof HermesUsage>

/** 202 of POST /v1/runs (fresh or replayed). */
export const RunAccepted = z.looseObject({
  run_id: z.string().min(1),
  status: z.string().optional(),
  replayed: z.boolean().optional(),
})

/** The `approval.request` payload (§6.4): the ids are the same uuid hex; old builds send no `request_id`. */
export const ApprovalRequestEvent = z.looseObject({
  command: z.string().optional(),
  description: z.string().optional(),
  request_id: z.string().optional(),
  approval_id: z.string().optional(),
  choices: z.array(z.string()).optional(),
})

/** GET /v1/runs/{id} (§5.1). */
export const RunStatusBody = z.looseObject({
  run_id: z.string().optional(),
  status: z.string().min(1),
  model: z.string().nullish(),
  output: z.string().nullish(),
  usage: HermesUsage.nullish(),
  error: z.string().nullish(),
  approval: ApprovalRequestEvent.nullish(),
  /** [V:journal]: the model that really served the run (§9 #9). */
  runtime: z.looseObject({ model: z.string().optional() }).nullish(),
})
export type RunStatusBody = z.infer<typeof RunStatusBody>

export const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'interrupted'])

/** Every error body seen (§10): the envelope, its short forms, or a bare string. */
export const ErrorBody = z.looseObject({
  error: z.union([
    z.string(),
    z.looseObject({ message: z.string().optional(), code: z.string().nullish(), type: z.string().nullish() }),
  ]),
})

export const HealthBody = z.looseObject({ status: z.string(), version: z.string().optional() })

/** The envelope every event starts with (§6.3); `seq` on some replay builds. */
export const EventEnvelope = z.looseObject({
  event: z.string().min(1),
  run_id: z.string().optional(),
  timestamp: z.number().optional(),
  seq: z.number().int().nonnegative().optional(),
})

/** The fields the backend reads of each event it maps (§6.3). */
export const EventFields = {
  'message.delta': z.looseObject({ delta: z.string() }),
  'message.interim': z.looseObject({ text: z.string(), already_streamed: z.boolean().optional() }),
  'reasoning.available': z.looseObject({ text: z.string().nullish() }),
  'tool.started': z.looseObject({ tool: z.string(), preview: z.string().nullish() }),
  'tool.completed': z.looseObject({
    tool: z.string(),
    duration: z.number().nullish(),
    error: z.boolean().nullish(),
    preview: z.string().nullish(),
  }),
  'approval.request': ApprovalRequestEvent,
  'approval.responded': z.looseObject({ choice: z.string(), request_id: z.string().optional() }),
  'subagent.complete': z.looseObject({
    input_tokens: z.number().nonnegative().nullish(),
    output_tokens: z.number().nonnegative().nullish(),
  }),
  'run.completed': z.looseObject({ output: z.string().nullish(), usage: HermesUsage.nullish() }),
  'run.failed': z.looseObject({ error: z.string().nullish() }),
  'run.cancelled': z.looseObject({}),
  'run.interrupted': z.looseObject({ error: z.string().nullish() }),
} as const

export type KnownEvent = keyof typeof EventFields
