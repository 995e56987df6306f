import type { Rule } from '../../../labels/triage-rules.js'
import { stripForRules } from './clean-text.js'
import type { IssueText } from './hash-features.js'

export interface RuleScore<L extends string> {
  label: L
  score: number
  reasons: string[]
}

const compiled = new Map<string, RegExp>()
function regex(pattern: string): RegExp {
  let re = compiled.get(pattern)
  if (!re) compiled.set(pattern, (re = new RegExp(pattern, 'i')))
  return re
}

/**
 * Scores each group's rules against an issue: a match in the title counts `titleWeight` times
 * the rule's weight, one in the body once. Returns groups by descending score (ties keep file
 * order), each with human-readable reasons.
 *
 * @example
 * scoreRules(rules.type, { title: 'Crash on start' }, rules.titleWeight)[0] // { label: 'type/bug', score: 4, ... }
 */
export function scoreRules<L extends string>(
  groups: readonly { label: L; rules: readonly Rule[] }[],
  issue: IssueText,
  titleWeight: number,
): RuleScore<L>[] {
  const title = stripForRules(issue.title)
  const body = stripForRules(issue.body ?? '')
  const scored = groups.map((g, order) => {
    let score = 0
    const reasons: string[] = []
    for (const rule of g.rules) {
      const re = regex(rule.pattern)
      const inTitle = re.exec(title)
      const inBody = re.exec(body)
      if (!inTitle && !inBody) continue
      score += rule.weight * ((inTitle ? titleWeight : 0) + (inBody ? 1 : 0))
      const word = (inTitle ?? inBody)![0].trim()
      const where = inTitle ? 'title' : 'body'
      reasons.push(rule.reason ? `${rule.reason} ("${word}" in ${where})` : `"${word}" in ${where}`)
    }
    return { label: g.label, score, reasons, order }
  })
  return scored
    .sort((a, b) => b.score - a.score || a.order - b.order)
    .map(({ label, score, reasons }) => ({ label, score, reasons }))
}
