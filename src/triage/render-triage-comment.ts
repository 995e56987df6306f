import { Labels } from '../../labels/names.js'
import { codeSpan, inlineText } from '../commands-core/markdown.js'

/** One label the bot applied, with why. */
export interface ExplainedLabel {
  label: string
  reasons: readonly string[]
}

/** Reasons shown per label: enough to judge, short enough to read at a glance. */
const TOP_REASONS = 2

/**
 * The triage comment: each label the bot applied with its top reasons, what it left alone, and
 * how to correct it.
 *
 * @example
 *   renderTriageComment([{ label: 'type/bug', reasons: ['"crash" in title'] }], ['priority/p1'])
 *   // '**Triage** ...\n- `type/bug`: "crash" in title\n...'
 */
export function renderTriageComment(
  applied: readonly ExplainedLabel[],
  keptByPerson: readonly string[],
): string {
  const lines = ['**Triage**', '']
  for (const { label, reasons } of applied) {
    // Reasons quote issue text: inert, like every text the bot did not write itself.
    const why = reasons.slice(0, TOP_REASONS).map(inlineText).join('; ')
    lines.push(`- ${codeSpan(label)}${why ? `: ${why}` : ''}`)
  }
  if (keptByPerson.length > 0) lines.push('', `Left as set: ${keptByPerson.map(codeSpan).join(', ')}.`)
  const needsTriage = applied.some((a) => a.label === Labels.STATUS_NEEDS_TRIAGE)
  lines.push(
    '',
    needsTriage
      ? `Not sure of the type: please set one, e.g. \`/label ${Labels.TYPE_QUESTION}\`.`
      : `Wrong label? Correct it with \`/label ${Labels.TYPE_QUESTION}\` (any label; one per scope). Type corrections teach this repository's model.`,
  )
  return lines.join('\n')
}
