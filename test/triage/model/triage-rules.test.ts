import { describe, expect, it } from 'vitest'
import { Labels, loadTriageRules } from '../../../labels/index.js'
import { decideTriage } from '../../../src/triage/model/decide-triage.js'
import {
  houseByRules,
  priorityByRules,
  sizeByRules,
  typeByPaths,
  typeByRules,
} from '../../../src/triage/model/rules-decisions.js'
import { TriageModel } from '../../../src/triage/model/triage-model.js'
import { toyIssues } from './toy-data.js'

const rules = loadTriageRules()

describe('priority rules', () => {
  it.each([
    ['App crashes on start', '', Labels.PRIORITY_P0],
    ['Saving loses work', 'We had data loss after saving twice', Labels.PRIORITY_P0],
    ['XSS in the comment box', 'a security vulnerability', Labels.PRIORITY_P0],
    ['This is a blocker for the release', '', Labels.PRIORITY_P0],
    ['Search regression in 2.1', 'it used to work', Labels.PRIORITY_P1],
    ['Typo on the settings page', '', Labels.PRIORITY_P3],
    ['Button colour is slightly off', '', Labels.PRIORITY_P2],
    // Cues inside code blocks are log noise, not severity.
    ['Button colour is off', '```\nsegfault data loss\n```', Labels.PRIORITY_P2],
  ])('%s -> %s', (title, body, expected) => {
    expect(priorityByRules({ title, body }, undefined, rules).label).toBe(expected)
  })

  it('falls back to the type’s usual priority and explains it', () => {
    const p = priorityByRules({ title: 'Support YAML anchors' }, Labels.TYPE_FEATURE, rules)
    expect(p.label).toBe(Labels.PRIORITY_P3)
    expect(p.reasons[0]).toContain('type/feature')
  })
})

describe('house rules', () => {
  it.each([
    ['Should we adopt a licence policy for vendored code?', undefined, Labels.HOUSE_TIMMY],
    ['Approve the release sign-off', undefined, Labels.HOUSE_TIMMY],
    ['Investigate the root cause of slow startups', undefined, Labels.HOUSE_EZRA],
    ['Write an architecture design doc for sync', undefined, Labels.HOUSE_EZRA],
    ['Document the webhook setup', Labels.TYPE_DOCS, Labels.HOUSE_EZRA],
    ['Fix the crash in the parser', Labels.TYPE_BUG, Labels.HOUSE_BEZALEL],
    ['Add tests for the exporter', Labels.TYPE_TESTS, Labels.HOUSE_BEZALEL],
    ['Something', undefined, Labels.HOUSE_BEZALEL],
  ] as const)('%s -> %s', (title, type, expected) => {
    expect(houseByRules({ title }, type, rules).label).toBe(expected)
  })
})

describe('type, path and size rules', () => {
  it.each([
    ['App crashes with an exception', Labels.TYPE_BUG],
    ['Feature request: add support for SSO', Labels.TYPE_FEATURE],
    ['How do I configure the proxy?', Labels.TYPE_QUESTION],
    ['Fix typo in README', Labels.TYPE_DOCS],
    ['CVE-2024-1234 in the upload handler', Labels.TYPE_SECURITY],
  ])('%s -> %s', (title, expected) => {
    expect(typeByRules({ title }, rules)?.label).toBe(expected)
  })

  it('gives no type when nothing matches', () => {
    expect(typeByRules({ title: 'Zebra' }, rules)).toBeUndefined()
  })

  it('reads the type from changed paths', () => {
    expect(typeByPaths(['docs/a.md', 'README.md'], rules)).toMatchObject({
      label: Labels.TYPE_DOCS,
      share: 1,
    })
    expect(typeByPaths(['src/a.test.ts', 'test/b.ts', 'src/b.ts'], rules)?.label).toBe(Labels.TYPE_TESTS)
    expect(typeByPaths([], rules)).toBeUndefined()
  })

  it.each([
    [10, 5, Labels.SIZE_S],
    [30, 20, Labels.SIZE_S],
    [30, 21, Labels.SIZE_M],
    [400, 0, Labels.SIZE_M],
    [300, 200, Labels.SIZE_L],
  ])('size of +%i -%i is %s', (add, del, expected) => {
    expect(sizeByRules(add, del, rules).label).toBe(expected)
  })
})

describe('decideTriage', () => {
  it('uses the rules without a model and applies a confident type', () => {
    const d = decideTriage({ title: 'App crashes with an exception on start', body: 'segfault' })
    expect(d.typeSource).toBe('rules')
    expect(d.labels).toEqual([
      Labels.TYPE_BUG,
      Labels.PRIORITY_P0,
      Labels.HOUSE_BEZALEL,
      Labels.STATUS_TRIAGED,
    ])
    expect(d.needsTriage).toBe(false)
    expect(d.reasons.priority.join()).toContain('crash')
  })

  it('asks for triage instead of guessing when unsure', () => {
    const d = decideTriage({ title: 'Zebra', body: 'giraffe' })
    expect(d.type).toBeUndefined()
    expect(d.needsTriage).toBe(true)
    expect(d.labels).toContain(Labels.STATUS_NEEDS_TRIAGE)
    expect(d.labels.some((l) => l.startsWith('type/'))).toBe(false)
  })

  it('uses a model trained on enough examples, and the rules below minExamples', () => {
    const rows = toyIssues()
    const opts = { sgd: { epochs: 10, learningRate: 0.5, l2: 1e-4, seed: 3 }, features: { bits: 16 } }
    const big = TriageModel.train(rows, { options: opts })
    const small = TriageModel.train(rows.slice(0, 5), { options: opts })
    expect(rows.length).toBeGreaterThanOrEqual(rules.minExamples)
    const input = { title: 'is there a way to use the search offline?' }
    expect(decideTriage(input, big)).toMatchObject({ typeSource: 'model', type: Labels.TYPE_QUESTION })
    expect(decideTriage(input, small).typeSource).toBe('rules')
  })

  it('types a pull request from its paths and sizes it', () => {
    const d = decideTriage({
      title: 'Update things',
      isPull: true,
      changedPaths: ['docs/setup.md', 'docs/faq.md'],
      additions: 120,
      deletions: 4,
    })
    expect(d).toMatchObject({ type: Labels.TYPE_DOCS, typeSource: 'paths', size: Labels.SIZE_M })
    expect(d.labels).toEqual([
      Labels.TYPE_DOCS,
      Labels.PRIORITY_P3,
      Labels.HOUSE_EZRA,
      Labels.SIZE_M,
      Labels.STATUS_TRIAGED,
    ])
  })

  it('gives no size to issues', () => {
    expect(decideTriage({ title: 'crash', additions: 5, deletions: 5 }).size).toBeUndefined()
  })
})
