import { scopeOf } from '../../labels/catalogue.js'

/** What triage does to an issue's labels. */
export interface TriageLabelPlan {
  /** Labels to add (at most one per scope, never into a scope a person already filled). */
  add: string[]
  /** The bot's own earlier labels to take off (only its status label when the status moves). */
  remove: string[]
  /** Labels already there that the bot left as they are, with whether the bot set them. */
  kept: { label: string; byBot: boolean }[]
}

/**
 * Plans the label changes for one triage run. Pure. Per scope (`type`, `priority`, `house`,
 * `size`, `status`) of each wanted label:
 * - nothing of that scope on the issue: add the wanted label, unless the bot applied it before
 *   and someone removed it since (a person's removal is a decision too);
 * - the wanted label is there: nothing to do;
 * - another label of the scope is there: leave it, it wins. The one exception is `status`, when
 *   the present status label is the bot's own: the bot moves it (add the new, remove the old), so
 *   `status/needs-triage` becomes `status/triaged` once a type is known.
 * So one run never puts two labels of a scope on an issue, and running it twice changes nothing
 * the second time.
 *
 * @example
 *   planTriageLabels(['type/bug', 'priority/p2'], ['type/feature'], [])
 *   // { add: ['priority/p2'], remove: [], kept: [{ label: 'type/feature', byBot: false }] }
 */
export function planTriageLabels(
  wanted: readonly string[],
  current: readonly string[],
  botApplied: readonly string[],
): TriageLabelPlan {
  const plan: TriageLabelPlan = { add: [], remove: [], kept: [] }
  const mine = new Set(botApplied)
  const here = new Set(current)
  const removedByPerson = new Set(botApplied.filter((l) => !here.has(l)))
  for (const label of wanted) {
    const scope = scopeOf(label)
    const present = current.filter((c) => (scope === undefined ? c === label : scopeOf(c) === scope))
    if (present.includes(label)) continue
    if (present.length === 0) {
      if (!removedByPerson.has(label)) plan.add.push(label)
      continue
    }
    if (scope === 'status' && present.every((p) => mine.has(p))) {
      plan.add.push(label)
      plan.remove.push(...present)
      continue
    }
    plan.kept.push(...present.map((p) => ({ label: p, byBot: mine.has(p) })))
  }
  return plan
}
