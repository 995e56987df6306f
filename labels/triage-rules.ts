import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { z } from 'zod'
import { packageRoot } from '../src/package-root.js'
import { HOUSE_LABELS, PRIORITY_LABELS, TYPE_LABELS } from './names.js'

const Pattern = z.string().refine(
  (p) => {
    try {
      new RegExp(p, 'i')
      return true
    } catch {
      return false
    }
  },
  { message: 'not a valid regular expression' },
)

/** One cue: a case-insensitive regular expression and its vote. `reason` is shown to people. */
export const Rule = z
  .object({ pattern: Pattern, weight: z.number().positive(), reason: z.string().optional() })
  .strict()
export type Rule = z.infer<typeof Rule>

const TypeLabelEnum = z.enum(TYPE_LABELS)
const PriorityLabelEnum = z.enum(PRIORITY_LABELS)
const HouseLabelEnum = z.enum(HOUSE_LABELS)

/** labels/triage-rules.yaml. Every label it names must be a catalogue constant. */
export const TriageRules = z
  .object({
    version: z.literal(1),
    minExamples: z.number().int().nonnegative(),
    confidenceThreshold: z.number().min(0).max(1),
    titleWeight: z.number().positive(),
    type: z.array(z.object({ label: TypeLabelEnum, rules: z.array(Rule).min(1) }).strict()),
    paths: z.array(
      z.object({ pattern: Pattern, label: TypeLabelEnum, weight: z.number().positive() }).strict(),
    ),
    priority: z
      .object({
        default: PriorityLabelEnum,
        byType: z.partialRecord(TypeLabelEnum, PriorityLabelEnum),
        minScore: z.number().positive(),
        levels: z.array(z.object({ label: PriorityLabelEnum, rules: z.array(Rule).min(1) }).strict()),
      })
      .strict(),
    house: z
      .object({
        default: HouseLabelEnum,
        byType: z.partialRecord(
          TypeLabelEnum,
          z.object({ house: HouseLabelEnum, weight: z.number().positive() }).strict(),
        ),
        houses: z.array(z.object({ label: HouseLabelEnum, rules: z.array(Rule).min(1) }).strict()),
      })
      .strict(),
    size: z
      .object({ S: z.number().int().nonnegative(), M: z.number().int().nonnegative() })
      .strict()
      .refine((s) => s.S < s.M, { message: 'S must be below M' }),
  })
  .strict()
export type TriageRules = z.infer<typeof TriageRules>

/** The rules shipped in the package. */
export function triageRulesPath(): string {
  return join(packageRoot(), 'labels', 'triage-rules.yaml')
}

/**
 * Parses triage rules YAML; throws an Error listing every problem with its path.
 *
 * @example
 * const rules = parseTriageRules(readFileSync('labels/triage-rules.yaml', 'utf8'))
 */
export function parseTriageRules(text: string, source = 'triage rules'): TriageRules {
  const result = TriageRules.safeParse(parse(text))
  if (!result.success) {
    const problems = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`)
    throw new Error(`invalid ${source}:\n${problems.join('\n')}`)
  }
  return result.data
}

let cached: TriageRules | undefined

/**
 * Loads and validates the triage rules (default: the package's file, cached after the first read).
 *
 * @example
 * loadTriageRules().confidenceThreshold // 0.5
 */
export function loadTriageRules(path?: string): TriageRules {
  if (path) return parseTriageRules(readFileSync(path, 'utf8'), path)
  cached ??= parseTriageRules(readFileSync(triageRulesPath(), 'utf8'), triageRulesPath())
  return cached
}
