import { z } from 'zod'
import { loadTriageRules, type TriageRules } from '../../../labels/triage-rules.js'
import {
  Labels,
  typeLabelFor,
  type HouseLabel,
  type LabelName,
  type PriorityLabel,
  type SizeLabel,
  type TypeLabel,
} from '../../../labels/names.js'
import { houseByRules, priorityByRules, sizeByRules, typeByPaths, typeByRules } from './rules-decisions.js'
import type { TriageModel } from './triage-model.js'

/** What triage reads about a new issue or pull request. */
export const TriageInput = z.object({
  title: z.string(),
  body: z.string().nullish(),
  isPull: z.boolean().default(false),
  changedPaths: z.array(z.string()).optional(),
  additions: z.number().int().nonnegative().optional(),
  deletions: z.number().int().nonnegative().optional(),
})
export type TriageInput = z.input<typeof TriageInput>

export interface TriageDecision {
  /** Best guess for the type; only in `labels` when `needsTriage` is false. */
  type: TypeLabel | undefined
  priority: PriorityLabel
  house: HouseLabel
  /** Pull requests with line counts only. */
  size: SizeLabel | undefined
  /** Confidence of the type decision, 0..1. */
  confidence: number
  /** True when the type is unknown or below the rules' confidence threshold. */
  needsTriage: boolean
  /** Where the type came from. */
  typeSource: 'model' | 'rules' | 'paths' | 'none'
  /** Labels to apply: type (if confident), priority, house, size (PRs), and a status label. */
  labels: LabelName[]
  /** Per decision, short human-readable reasons (for the triage comment and the Redis record). */
  reasons: { type: string[]; priority: string[]; house: string[]; size: string[] }
}

/**
 * Decides type, priority, house and (for pull requests) size. Pure and synchronous; the handler
 * re-reads current labels, drops what a human already set, and applies `labels`.
 *
 * The type comes from `model` when it was trained on at least `rules.minExamples` issues, else
 * from the keyword rules. For a pull request, changed paths that mostly (≥ 60%) look like docs,
 * tests or ops decide the type instead. Below `rules.confidenceThreshold`, the type is left out
 * and `status/needs-triage` is added.
 *
 * @example
 * const d = decideTriage({ title: 'Crash when saving', body: 'segfault, data lost' }, repoModel)
 * d.labels // ['type/bug', 'priority/p0', 'house/bezalel', 'status/triaged']
 */
export function decideTriage(
  input: TriageInput,
  model?: TriageModel,
  rules: TriageRules = loadTriageRules(),
): TriageDecision {
  const issue = TriageInput.parse(input)
  const text = { title: issue.title, body: issue.body ?? '' }
  let type: TypeLabel | undefined
  let confidence = 0
  let typeSource: TriageDecision['typeSource'] = 'none'
  let typeReasons: string[] = []

  const byPaths = issue.isPull && issue.changedPaths ? typeByPaths(issue.changedPaths, rules) : undefined
  if (byPaths && byPaths.share >= 0.6) {
    ;[type, confidence, typeSource, typeReasons] = [byPaths.label, byPaths.share, 'paths', byPaths.reasons]
  } else if (model && model.exampleCount >= rules.minExamples) {
    const p = model.predict(text, { reasons: 3 })
    type = typeLabelFor(p.label)
    confidence = type ? p.confidence : 0
    typeSource = 'model'
    typeReasons = [
      `model (${model.exampleCount} examples) says ${p.label} with p=${p.confidence.toFixed(2)}`,
      ...p.reasons.map((r) => `${r.feature} (+${r.weight.toFixed(2)})`),
    ]
  } else {
    const byRules = typeByRules(text, rules)
    if (byRules)
      [type, confidence, typeSource, typeReasons] = [
        byRules.label,
        byRules.confidence,
        'rules',
        byRules.reasons,
      ]
  }

  const needsTriage = type === undefined || confidence < rules.confidenceThreshold
  const priority = priorityByRules(text, type, rules)
  const house = houseByRules(text, needsTriage ? undefined : type, rules)
  const size =
    issue.isPull && issue.additions !== undefined && issue.deletions !== undefined
      ? sizeByRules(issue.additions, issue.deletions, rules)
      : undefined

  const labels: LabelName[] = []
  if (!needsTriage && type) labels.push(type)
  labels.push(priority.label, house.label)
  if (size) labels.push(size.label)
  labels.push(needsTriage ? Labels.STATUS_NEEDS_TRIAGE : Labels.STATUS_TRIAGED)
  return {
    type,
    priority: priority.label,
    house: house.label,
    size: size?.label,
    confidence,
    needsTriage,
    typeSource,
    labels,
    reasons: {
      type: needsTriage
        ? [...typeReasons, `confidence ${confidence.toFixed(2)} is below ${rules.confidenceThreshold}`]
        : typeReasons,
      priority: priority.reasons,
      house: house.reasons,
      size: size?.reasons ?? [],
    },
  }
}
