import { scopeOf, type CatalogueLabel } from '../../labels/catalogue.js'
import { isTriggerLabel } from '../../labels/house-label.js'
import type { KnownAlert } from './alert-group.js'

/** The annotation an alert names its issue labels in: comma-separated catalogue names. */
export const LABELS_ANNOTATION = 'gitea_labels'

/** What a set of alerts asks to be labelled with. */
export interface AlertLabels {
  /** Catalogue names, at most one per exclusive scope (an alert's own names before the defaults). */
  labels: string[]
  /** Names that are not in the catalogue, ignored (shown in the issue so someone can fix the rule). */
  unknown: string[]
  /**
   * Catalogue names alerts may not set because they act (`house/*` routes `/run` and, with
   * `commands.agents.labelTriggers`, starts a house's task): refused, and shown in the issue.
   */
  refused: string[]
}

/**
 * The labels alerts ask for: each one's `gitea_labels` annotation, then `defaults` (config
 * `alerts.labels`), keeping catalogue names only and the first label of each exclusive scope, so
 * an alert that says `type/security` wins over the default `type/ops`. Trigger labels
 * (`isTriggerLabel`) are refused: alert text must not route commands or start agent tasks.
 *
 * @example
 *   alertLabels([{ annotations: { gitea_labels: 'priority/p1, nope' } }], catalogue, ['type/ops'])
 *   // { labels: ['priority/p1', 'type/ops'], unknown: ['nope'], refused: [] }
 */
export function alertLabels(
  alerts: readonly Pick<KnownAlert, 'annotations'>[],
  catalogue: readonly CatalogueLabel[],
  defaults: readonly string[],
): AlertLabels {
  const byName = new Map(catalogue.map((l) => [l.name, l]))
  const labels: string[] = []
  const unknown: string[] = []
  const refused: string[] = []
  const scopes = new Set<string>()
  const asked = alerts.flatMap((a) => (a.annotations[LABELS_ANNOTATION] ?? '').split(','))
  for (const raw of [...asked, ...defaults]) {
    const name = raw.trim()
    if (name === '' || labels.includes(name) || unknown.includes(name) || refused.includes(name)) continue
    if (isTriggerLabel(name)) {
      refused.push(name)
      continue
    }
    const entry = byName.get(name)
    if (!entry) {
      unknown.push(name)
      continue
    }
    const scope = entry.exclusive ? scopeOf(name) : undefined
    if (scope !== undefined) {
      if (scopes.has(scope)) continue
      scopes.add(scope)
    }
    labels.push(name)
  }
  return { labels, unknown, refused }
}
