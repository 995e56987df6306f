import { z } from 'zod'

/**
 * The `triage` section of the YAML config: how new issues and pull requests are triaged.
 * `threshold` and `minExamples` override the values in `labels/triage-rules.yaml` when set.
 *
 * @example
 *   # uw.yaml
 *   triage:
 *     enabled: true
 *     threshold: 0.6       # below this type confidence: status/needs-triage instead of a type
 *     comment: true        # post one short comment explaining the labels
 *     minExamples: 30      # labelled issues a repo model needs before it replaces the rules
 *     createMissingLabels: true
 */
export const TriageConfig = z
  .object({
    /** Triage `issues` / `pull_request` opened events at all. */
    enabled: z.boolean().default(true),
    /** Type confidence below which the bot adds `status/needs-triage` instead of a type. */
    threshold: z.number().min(0).max(1).optional(),
    /** Post one triage comment per issue listing each label with its reasons. */
    comment: z.boolean().default(true),
    /** Labelled examples a repo model needs before it decides the type instead of the rules. */
    minExamples: z.number().int().nonnegative().optional(),
    /** Create catalogue labels the repository lacks when the bot adds them (else they are skipped). */
    createMissingLabels: z.boolean().default(true),
  })
  .strict()
export type TriageConfig = z.infer<typeof TriageConfig>
