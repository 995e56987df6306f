import { z } from 'zod'

/**
 * What the bot decided for one issue and which labels it applied, with the reasons. Written by the
 * executor (`recordTriage` effect) once the labels are on the issue; read to tell the bot's labels
 * from a person's and to spot a person correcting the bot's type.
 */
export const TriageRecord = z.object({
  repo: z.string(),
  issue: z.number().int().positive(),
  /** ISO time of the run that wrote it. */
  at: z.string(),
  deliveryId: z.string(),
  /** `opened` or `/triage by <login>`. */
  trigger: z.string(),
  /** Every label the bot added to this issue so far (union over runs). */
  applied: z.array(z.string()),
  /** The type label the bot set, if it set one. */
  botType: z.string().nullable(),
  /** The decision of the last run, whether or not each label was applied. */
  decision: z.object({
    type: z.string().nullable(),
    priority: z.string(),
    house: z.string(),
    size: z.string().nullable(),
    confidence: z.number(),
    needsTriage: z.boolean(),
    typeSource: z.string(),
  }),
  /** Per applied label, its top reasons. */
  reasons: z.record(z.string(), z.array(z.string())),
  /** True once the triage comment was asked for (it is keyed per issue, so posted once). */
  commented: z.boolean(),
  /** The type label a person set that was already learnt from (so a label event is learnt once). */
  learnedType: z.string().nullable().default(null),
})
export type TriageRecord = z.infer<typeof TriageRecord>
