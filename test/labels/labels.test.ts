import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  applyLabelSyncPlan,
  cataloguePath,
  HOUSE_LABELS,
  Labels,
  loadCatalogue,
  loadTriageRules,
  parseCatalogue,
  parseTriageRules,
  planLabelSync,
  PRIORITY_LABELS,
  SIZE_LABELS,
  STATUS_LABELS,
  TYPE_LABELS,
  triageRulesPath,
  typeLabelFor,
  type ExistingLabel,
} from '../../labels/index.js'

const catalogue = loadCatalogue()

describe('label catalogue and constants', () => {
  it('every constant is in the catalogue and every catalogue label has a constant', () => {
    const inCatalogue = catalogue.labels.map((l) => l.name).sort()
    const constants = Object.values(Labels).sort()
    expect(constants).toEqual(inCatalogue)
  })

  it('the scope lists partition the constants', () => {
    const grouped = [...TYPE_LABELS, ...PRIORITY_LABELS, ...HOUSE_LABELS, ...STATUS_LABELS, ...SIZE_LABELS]
    expect(new Set(grouped).size).toBe(grouped.length)
    expect([...grouped].sort()).toEqual(Object.values(Labels).sort())
    expect(TYPE_LABELS).toHaveLength(8)
    expect(TYPE_LABELS.every((l) => l.startsWith('type/'))).toBe(true)
    expect(PRIORITY_LABELS.every((l) => l.startsWith('priority/'))).toBe(true)
    expect(HOUSE_LABELS.every((l) => l.startsWith('house/'))).toBe(true)
  })

  it('type, priority and house scopes are exclusive', () => {
    for (const name of [...TYPE_LABELS, ...PRIORITY_LABELS, ...HOUSE_LABELS]) {
      expect(catalogue.labels.find((l) => l.name === name)?.exclusive, name).toBe(true)
    }
  })

  it('normalises colours', () => {
    const c = parseCatalogue('version: 1\nlabels:\n  - { name: a, color: "#AABBCC" }\n')
    expect(c.labels[0]).toEqual({
      name: 'a',
      color: 'aabbcc',
      description: '',
      exclusive: false,
      previously: [],
    })
  })

  it.each([
    ['duplicate names', '- { name: a, color: aaaaaa }\n  - { name: a, color: bbbbbb }', 'duplicate name'],
    [
      'old name reused',
      '- { name: a, color: aaaaaa }\n  - { name: b, color: bbbbbb, previously: [a] }',
      'old name "a"',
    ],
    ['exclusive without scope', '- { name: a, color: aaaaaa, exclusive: true }', 'needs a scope'],
    ['bad colour', '- { name: a, color: red }', 'six hex digits'],
    [
      'mixed scope',
      '- { name: s/a, color: aaaaaa, exclusive: true }\n  - { name: s/b, color: aaaaaa }',
      'mixes exclusive',
    ],
    ['unknown key', '- { name: a, color: aaaaaa, colour: x }', 'colour'],
  ])('rejects %s', (_name, labels, message) => {
    expect(() => parseCatalogue(`version: 1\nlabels:\n  ${labels}\n`)).toThrow(message)
  })

  it('maps class names and aliases to type labels', () => {
    expect(typeLabelFor('bug')).toBe(Labels.TYPE_BUG)
    expect(typeLabelFor('Enhancement')).toBe(Labels.TYPE_FEATURE)
    expect(typeLabelFor('type/question')).toBe(Labels.TYPE_QUESTION)
    expect(typeLabelFor('wontfix')).toBeUndefined()
  })

  it('finds its data files from the package root', () => {
    expect(readFileSync(cataloguePath(), 'utf8')).toContain('type/bug')
    expect(readFileSync(triageRulesPath(), 'utf8')).toContain('priority')
  })
})

describe('triage rules file', () => {
  it('loads and names only catalogue labels', () => {
    const rules = loadTriageRules()
    expect(rules.type.map((t) => t.label).sort()).toEqual([...TYPE_LABELS].sort())
    expect(rules.priority.levels.map((l) => l.label)).toContain(Labels.PRIORITY_P0)
  })

  it.each([
    ['an unknown label', (t: string) => t.replace('label: type/bug', 'label: type/bogus')],
    ['a broken regex', (t: string) => t.replace("'\\b(bug|crash", "'(\\b(bug|crash")],
    ['S above M', (t: string) => t.replace('S: 50', 'S: 5000')],
  ])('rejects %s', (_name, edit) => {
    const text = readFileSync(triageRulesPath(), 'utf8')
    const edited = edit(text)
    expect(edited).not.toBe(text)
    expect(() => parseTriageRules(edited)).toThrow(/invalid/)
  })
})

const label = (id: number, name: string, more: Partial<ExistingLabel> = {}): ExistingLabel => ({
  id,
  name,
  color: 'ffffff',
  description: '',
  exclusive: false,
  ...more,
})

describe('planLabelSync', () => {
  it('creates everything in an empty repo and is idempotent', () => {
    const plan = planLabelSync(catalogue, [])
    expect(plan.filter((a) => a.kind === 'create')).toHaveLength(catalogue.labels.length)
    const after = applyLabelSyncPlan([], plan)
    expect(planLabelSync(catalogue, after)).toEqual([])
    expect(planLabelSync(catalogue, after, { prune: true })).toEqual([])
  })

  it('renames through previously, keeping the id, and updates fields in the same step', () => {
    const existing = [label(7, 'bug'), label(8, 'enhancement')]
    const plan = planLabelSync(catalogue, existing)
    expect(plan).toContainEqual(
      expect.objectContaining({
        kind: 'rename',
        id: 7,
        from: 'bug',
        label: expect.objectContaining({ name: 'type/bug' }),
      }),
    )
    expect(plan).toContainEqual(expect.objectContaining({ kind: 'rename', id: 8, from: 'enhancement' }))
    expect(plan.some((a) => a.kind === 'create' && a.label.name === Labels.TYPE_BUG)).toBe(false)
    const after = applyLabelSyncPlan(existing, plan)
    expect(after.find((l) => l.id === 7)?.name).toBe(Labels.TYPE_BUG)
    expect(planLabelSync(catalogue, after)).toEqual([])
  })

  it('updates a label whose colour, description or exclusivity drifted', () => {
    const good = catalogue.labels.find((l) => l.name === Labels.PRIORITY_P0)!
    const existing = [
      label(1, good.name, {
        color: '#' + good.color.toUpperCase(),
        description: good.description,
        exclusive: false,
      }),
    ]
    const plan = planLabelSync(catalogue, existing).filter((a) => a.kind !== 'create')
    expect(plan).toEqual([expect.objectContaining({ kind: 'update', id: 1, changed: ['exclusive'] })])
  })

  it('never deletes without prune, and deletes only unmanaged labels with it', () => {
    const synced = applyLabelSyncPlan([], planLabelSync(catalogue, []))
    const existing = [...synced, label(99, 'wontfix'), label(100, 'bug')]
    expect(planLabelSync(catalogue, existing).some((a) => a.kind === 'delete')).toBe(false)
    expect(planLabelSync(catalogue, existing)).toEqual([])
    const pruned = planLabelSync(catalogue, existing, { prune: true })
    expect(pruned).toEqual([
      { kind: 'delete', id: 99, name: 'wontfix' },
      { kind: 'delete', id: 100, name: 'bug' },
    ])
    expect(planLabelSync(catalogue, applyLabelSyncPlan(existing, pruned), { prune: true })).toEqual([])
  })

  it('uses each old label for one rename only', () => {
    const cat = parseCatalogue(
      'version: 1\nlabels:\n  - { name: x/a, color: aaaaaa, previously: [old] }\n  - { name: x/b, color: bbbbbb }\n',
    )
    const plan = planLabelSync(cat, [label(1, 'old')])
    expect(plan.map((a) => a.kind)).toEqual(['rename', 'create'])
  })
})
