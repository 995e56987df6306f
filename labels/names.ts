/**
 * Label names as constants, so code never scatters label strings. test/labels/labels.test.ts checks
 * that these and labels/catalogue.yaml agree both ways.
 *
 * @example
 * effects.push({ kind: 'addLabels', labels: [Labels.TYPE_BUG, Labels.STATUS_TRIAGED] })
 */
export const Labels = {
  TYPE_BUG: 'type/bug',
  TYPE_FEATURE: 'type/feature',
  TYPE_QUESTION: 'type/question',
  TYPE_DOCS: 'type/docs',
  TYPE_SECURITY: 'type/security',
  TYPE_OPS: 'type/ops',
  TYPE_REFACTOR: 'type/refactor',
  TYPE_TESTS: 'type/tests',
  PRIORITY_P0: 'priority/p0',
  PRIORITY_P1: 'priority/p1',
  PRIORITY_P2: 'priority/p2',
  PRIORITY_P3: 'priority/p3',
  HOUSE_TIMMY: 'house/timmy',
  HOUSE_EZRA: 'house/ezra',
  HOUSE_BEZALEL: 'house/bezalel',
  STATUS_NEEDS_TRIAGE: 'status/needs-triage',
  STATUS_TRIAGED: 'status/triaged',
  SIZE_S: 'size/S',
  SIZE_M: 'size/M',
  SIZE_L: 'size/L',
} as const
export type LabelName = (typeof Labels)[keyof typeof Labels]

export const TYPE_LABELS = [
  Labels.TYPE_BUG,
  Labels.TYPE_FEATURE,
  Labels.TYPE_QUESTION,
  Labels.TYPE_DOCS,
  Labels.TYPE_SECURITY,
  Labels.TYPE_OPS,
  Labels.TYPE_REFACTOR,
  Labels.TYPE_TESTS,
] as const
export type TypeLabel = (typeof TYPE_LABELS)[number]

/** Most urgent first. */
export const PRIORITY_LABELS = [
  Labels.PRIORITY_P0,
  Labels.PRIORITY_P1,
  Labels.PRIORITY_P2,
  Labels.PRIORITY_P3,
] as const
export type PriorityLabel = (typeof PRIORITY_LABELS)[number]

export const HOUSE_LABELS = [Labels.HOUSE_TIMMY, Labels.HOUSE_EZRA, Labels.HOUSE_BEZALEL] as const
export type HouseLabel = (typeof HOUSE_LABELS)[number]

export const STATUS_LABELS = [Labels.STATUS_NEEDS_TRIAGE, Labels.STATUS_TRIAGED] as const
export type StatusLabel = (typeof STATUS_LABELS)[number]

/** Smallest first. */
export const SIZE_LABELS = [Labels.SIZE_S, Labels.SIZE_M, Labels.SIZE_L] as const
export type SizeLabel = (typeof SIZE_LABELS)[number]

const ALL = new Set<string>(Object.values(Labels))

/** True for a label this catalogue manages (exact, case-sensitive like Gitea). */
export function isManagedLabel(name: string): name is LabelName {
  return ALL.has(name)
}

/**
 * The short class name of a type label, used as the classifier's label.
 *
 * @example
 * typeClass('type/bug') // 'bug'
 */
export function typeClass(label: TypeLabel): string {
  return label.slice('type/'.length)
}

/**
 * The type label for a class name or a common alias, or undefined when it names no type.
 *
 * @example
 * typeLabelFor('enhancement') // 'type/feature'
 */
export function typeLabelFor(name: string): TypeLabel | undefined {
  const key = name
    .trim()
    .toLowerCase()
    .replace(/^(type|kind)[/:]\s*/, '')
  const alias: Record<string, TypeLabel> = {
    bug: Labels.TYPE_BUG,
    feature: Labels.TYPE_FEATURE,
    enhancement: Labels.TYPE_FEATURE,
    'feature request': Labels.TYPE_FEATURE,
    question: Labels.TYPE_QUESTION,
    docs: Labels.TYPE_DOCS,
    documentation: Labels.TYPE_DOCS,
    security: Labels.TYPE_SECURITY,
    ops: Labels.TYPE_OPS,
    refactor: Labels.TYPE_REFACTOR,
    tests: Labels.TYPE_TESTS,
    test: Labels.TYPE_TESTS,
  }
  return alias[key]
}
