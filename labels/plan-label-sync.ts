import { z } from 'zod'
import type { Catalogue, CatalogueLabel } from './catalogue.js'

/** A label as the repository has it now (the fields of Gitea's `Label` that a sync reads). */
export const ExistingLabel = z.object({
  id: z.number().int().optional(),
  name: z.string(),
  color: z.string().default(''),
  description: z.string().default(''),
  exclusive: z.boolean().default(false),
})
export type ExistingLabel = z.infer<typeof ExistingLabel>

/** The fields a sync sets on a label. */
export interface LabelFields {
  name: string
  color: string
  description: string
  exclusive: boolean
}

/** One step of a label sync, applied in plan order through the Gitea port. */
export type LabelSyncAction =
  | { kind: 'create'; label: LabelFields }
  | { kind: 'update'; id?: number; name: string; label: LabelFields; changed: (keyof LabelFields)[] }
  | { kind: 'rename'; id?: number; from: string; label: LabelFields; changed: (keyof LabelFields)[] }
  | { kind: 'delete'; id?: number; name: string }

export interface PlanLabelSyncOptions {
  /** Delete labels the catalogue does not name. Off by default: a sync never deletes unasked. */
  prune?: boolean
}

const normColor = (c: string): string => c.replace('#', '').toLowerCase()

function fieldsOf(l: CatalogueLabel): LabelFields {
  return { name: l.name, color: l.color, description: l.description, exclusive: l.exclusive }
}

function diff(want: LabelFields, have: ExistingLabel): (keyof LabelFields)[] {
  const changed: (keyof LabelFields)[] = []
  if (want.name !== have.name) changed.push('name')
  if (want.color !== normColor(have.color)) changed.push('color')
  if (want.description !== have.description) changed.push('description')
  if (want.exclusive !== have.exclusive) changed.push('exclusive')
  return changed
}

/**
 * Plans the actions that make a repository's labels match the catalogue. Pure: the caller applies
 * the actions through the Gitea port (create, edit by id, delete by id).
 *
 * - A catalogue label that exists (same name) is updated if its colour, description or
 *   exclusivity differ.
 * - Otherwise, if one of its `previously` names exists, that label is renamed (Gitea keeps the id,
 *   so every issue keeps it); otherwise it is created.
 * - With `prune`, labels the catalogue does not name and no rename consumed are deleted. Without
 *   it nothing is ever deleted, including an old name left over when both old and new exist.
 * - Applying the plan and planning again yields `[]`.
 *
 * Names compare exactly, as Gitea does.
 *
 * @example
 * planLabelSync(loadCatalogue(), [{ id: 3, name: 'bug', color: 'ee0701', description: '', exclusive: false }])
 * // [{ kind: 'rename', id: 3, from: 'bug', label: { name: 'type/bug', ... }, changed: [...] }, { kind: 'create', ... }, ...]
 */
export function planLabelSync(
  catalogue: Catalogue,
  existing: readonly ExistingLabel[],
  options: PlanLabelSyncOptions = {},
): LabelSyncAction[] {
  const byName = new Map(existing.map((l) => [l.name, l]))
  const claimed = new Set<string>()
  const actions: LabelSyncAction[] = []
  for (const entry of catalogue.labels) {
    const want = fieldsOf(entry)
    const current = byName.get(entry.name)
    if (current) {
      claimed.add(current.name)
      const changed = diff(want, current)
      if (changed.length > 0)
        actions.push({ kind: 'update', id: current.id, name: current.name, label: want, changed })
      continue
    }
    const old = entry.previously
      .map((p) => byName.get(p))
      .find((l) => l !== undefined && !claimed.has(l.name))
    if (old) {
      claimed.add(old.name)
      actions.push({ kind: 'rename', id: old.id, from: old.name, label: want, changed: diff(want, old) })
      continue
    }
    actions.push({ kind: 'create', label: want })
  }
  if (options.prune) {
    for (const l of existing) {
      if (!claimed.has(l.name)) actions.push({ kind: 'delete', id: l.id, name: l.name })
    }
  }
  return actions
}

/**
 * Applies a plan to a label list in memory: what the repository holds after the port has run it.
 * Used by tests and by a dry run to show the result.
 *
 * @example
 * applyLabelSyncPlan(existing, planLabelSync(catalogue, existing))
 */
export function applyLabelSyncPlan(
  existing: readonly ExistingLabel[],
  plan: readonly LabelSyncAction[],
): ExistingLabel[] {
  let labels = existing.map((l) => ({ ...l }))
  let nextId = Math.max(0, ...labels.map((l) => l.id ?? 0)) + 1
  for (const a of plan) {
    if (a.kind === 'create') labels.push({ id: nextId++, ...a.label })
    else if (a.kind === 'delete') labels = labels.filter((l) => l.name !== a.name)
    else {
      const from = a.kind === 'rename' ? a.from : a.name
      labels = labels.map((l) => (l.name === from ? { ...l, ...a.label } : l))
    }
  }
  return labels
}

/**
 * One line per action, for the dry-run output of `uni-wizard labels sync`.
 *
 * @example
 * describeLabelSyncAction({ kind: 'delete', name: 'wontfix' }) // 'delete  wontfix'
 */
export function describeLabelSyncAction(a: LabelSyncAction): string {
  switch (a.kind) {
    case 'create':
      return `create  ${a.label.name} (#${a.label.color}${a.label.exclusive ? ', exclusive' : ''})`
    case 'update':
      return `update  ${a.name}: ${a.changed.join(', ')}`
    case 'rename':
      return `rename  ${a.from} -> ${a.label.name}${a.changed.length > 1 ? ` (also ${a.changed.filter((c) => c !== 'name').join(', ')})` : ''}`
    case 'delete':
      return `delete  ${a.name}`
  }
}
