import type { TriageRules } from '../../../labels/triage-rules.js'
import {
  Labels,
  type HouseLabel,
  type PriorityLabel,
  type SizeLabel,
  type TypeLabel,
  PRIORITY_LABELS,
} from '../../../labels/names.js'
import type { IssueText } from './hash-features.js'
import { scoreRules } from './rules-engine.js'

export interface RuleDecision<L extends string> {
  label: L
  confidence: number
  reasons: string[]
}

/**
 * The type from the keyword rules alone, used below `minExamples` labelled issues. Confidence is
 * the winner's share of all votes (with one phantom vote, so a single weak cue stays unsure);
 * undefined when no rule fires.
 *
 * @example
 * typeByRules({ title: 'App crashes on start' }, rules)?.label // 'type/bug'
 */
export function typeByRules(issue: IssueText, rules: TriageRules): RuleDecision<TypeLabel> | undefined {
  const scores = scoreRules(rules.type, issue, rules.titleWeight)
  const top = scores[0]
  if (!top || top.score === 0) return undefined
  const total = scores.reduce((a, s) => a + s.score, 0)
  return { label: top.label, confidence: top.score / (total + 1), reasons: top.reasons }
}

/**
 * Votes of a pull request's changed paths for a type, as shares of the paths (0..1) times the rule
 * weight. The best vote and the share of paths it covers.
 *
 * @example
 * typeByPaths(['docs/a.md', 'README.md'], rules) // { label: 'type/docs', share: 1, ... }
 */
export function typeByPaths(
  paths: readonly string[],
  rules: TriageRules,
): { label: TypeLabel; share: number; reasons: string[] } | undefined {
  if (paths.length === 0) return undefined
  let best: { label: TypeLabel; share: number; score: number; reasons: string[] } | undefined
  for (const rule of rules.paths) {
    const re = new RegExp(rule.pattern, 'i')
    const hits = paths.filter((p) => re.test(p))
    const share = hits.length / paths.length
    if (hits.length > 0 && (!best || share * rule.weight > best.score))
      best = {
        label: rule.label,
        share,
        score: share * rule.weight,
        reasons: [`${hits.length} of ${paths.length} changed paths look like ${rule.label} (${hits[0]})`],
      }
  }
  return best && { label: best.label, share: best.share, reasons: best.reasons }
}

/**
 * Priority from severity cues: the most urgent level whose cues reach `minScore`; otherwise the
 * type's usual priority, otherwise the default.
 *
 * @example
 * priorityByRules({ title: 'Data loss after save' }, Labels.TYPE_BUG, rules).label // 'priority/p0'
 */
export function priorityByRules(
  issue: IssueText,
  type: TypeLabel | undefined,
  rules: TriageRules,
): RuleDecision<PriorityLabel> {
  const scores = scoreRules(rules.priority.levels, issue, rules.titleWeight)
  const hit = scores
    .filter((s) => s.score >= rules.priority.minScore)
    .sort((a, b) => PRIORITY_LABELS.indexOf(a.label) - PRIORITY_LABELS.indexOf(b.label))[0]
  if (hit)
    return {
      label: hit.label,
      confidence: Math.min(1, hit.score / (2 * rules.priority.minScore)),
      reasons: hit.reasons,
    }
  const byType = type ? rules.priority.byType[type] : undefined
  if (byType) return { label: byType, confidence: 0.5, reasons: [`usual priority for ${type}`] }
  return { label: rules.priority.default, confidence: 0.5, reasons: ['no severity cue'] }
}

/**
 * House from routing cues plus a vote from the type; the default house when nothing fires.
 *
 * @example
 * houseByRules({ title: 'Should we adopt a licence policy?' }, undefined, rules).label // 'house/timmy'
 */
export function houseByRules(
  issue: IssueText,
  type: TypeLabel | undefined,
  rules: TriageRules,
): RuleDecision<HouseLabel> {
  const scores = scoreRules(rules.house.houses, issue, rules.titleWeight)
  const vote = type ? rules.house.byType[type] : undefined
  if (vote) {
    const entry = scores.find((s) => s.label === vote.house)
    if (entry) {
      entry.score += vote.weight
      entry.reasons.push(`${type} usually goes to ${vote.house}`)
    } else
      scores.push({
        label: vote.house,
        score: vote.weight,
        reasons: [`${type} usually goes to ${vote.house}`],
      })
    scores.sort((a, b) => b.score - a.score)
  }
  const top = scores[0]
  if (!top || top.score === 0)
    return { label: rules.house.default, confidence: 0.5, reasons: ['no routing cue'] }
  const total = scores.reduce((a, s) => a + s.score, 0)
  return { label: top.label, confidence: top.score / (total + 1), reasons: top.reasons }
}

/**
 * Pull request size from changed lines.
 *
 * @example
 * sizeByRules(30, 10, rules) // { label: 'size/S', reasons: ['40 changed lines (≤ 50)'] }
 */
export function sizeByRules(
  additions: number,
  deletions: number,
  rules: TriageRules,
): { label: SizeLabel; reasons: string[] } {
  const lines = additions + deletions
  if (lines <= rules.size.S)
    return { label: Labels.SIZE_S, reasons: [`${lines} changed lines (≤ ${rules.size.S})`] }
  if (lines <= rules.size.M)
    return { label: Labels.SIZE_M, reasons: [`${lines} changed lines (≤ ${rules.size.M})`] }
  return { label: Labels.SIZE_L, reasons: [`${lines} changed lines (> ${rules.size.M})`] }
}
