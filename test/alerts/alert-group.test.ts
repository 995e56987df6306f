import { describe, expect, it } from 'vitest'
import {
  mergeNotification,
  newGroup,
  planGroupStep,
  toldAll,
  type GroupState,
} from '../../src/alerts/alert-group.js'
import { alertLabels } from '../../src/alerts/alert-labels.js'
import { loadCatalogue } from '../../labels/catalogue.js'
import { notification, T0, type TestAlert } from './notifications.js'

const merge = (...batches: TestAlert[][]): GroupState =>
  batches.reduce((s, b) => mergeNotification(s, notification(b)), newGroup(notification(batches[0]!)))
const statusOf = (s: GroupState) =>
  Object.fromEntries(Object.values(s.known).map((a) => [a.fingerprint, a.status]))
const LATER = '2030-01-01T12:00:00Z'

describe('mergeNotification: the newer state of each alert wins, whatever the order', () => {
  const cases: { name: string; batches: TestAlert[][]; expected: Record<string, string> }[] = [
    { name: 'firing', batches: [[{ fp: 'a', status: 'firing' }]], expected: { a: 'firing' } },
    {
      name: 'firing then resolved',
      batches: [[{ fp: 'a', status: 'firing' }], [{ fp: 'a', status: 'resolved' }]],
      expected: { a: 'resolved' },
    },
    {
      name: 'resolved then a late firing copy of the same episode (HA peer, redelivery)',
      batches: [[{ fp: 'a', status: 'resolved' }], [{ fp: 'a', status: 'firing' }]],
      expected: { a: 'resolved' },
    },
    {
      name: 'resolved then a new episode (later startsAt) fires',
      batches: [[{ fp: 'a', status: 'resolved' }], [{ fp: 'a', status: 'firing', startsAt: LATER }]],
      expected: { a: 'firing' },
    },
    {
      name: 'a new episode then a stale copy of the old one',
      batches: [
        [{ fp: 'a', status: 'firing', startsAt: LATER }],
        [{ fp: 'a', status: 'resolved', startsAt: T0 }],
      ],
      expected: { a: 'firing' },
    },
    {
      name: 'an alert missing from a later notification keeps its state',
      batches: [
        [
          { fp: 'a', status: 'firing' },
          { fp: 'b', status: 'firing' },
        ],
        [{ fp: 'b', status: 'resolved' }],
      ],
      expected: { a: 'firing', b: 'resolved' },
    },
  ]
  it.each(cases)('$name', ({ batches, expected }) => {
    expect(statusOf(merge(...batches))).toEqual(expected)
    // Any order of the same notifications converges on the same state.
    expect(statusOf(merge(...[...batches].reverse()))).toEqual(expected)
  })

  it('merging the same notification again changes nothing', () => {
    const once = merge([{ fp: 'a', status: 'firing' }])
    expect(mergeNotification(once, notification([{ fp: 'a', status: 'firing' }]))).toEqual(once)
  })

  it('reads nanosecond timestamps: the same instant written with more digits is the same episode', () => {
    const s = merge(
      [{ fp: 'a', status: 'resolved', startsAt: T0 }],
      [{ fp: 'a', status: 'firing', startsAt: T0 }],
    )
    expect(statusOf(s)).toEqual({ a: 'resolved' })
    expect(T0).toMatch(/\.\d{9}Z$/)
  })
})

describe('planGroupStep', () => {
  const labels = () => ['type/ops']
  const told = (s: GroupState, extra: Partial<GroupState> = {}): GroupState => ({
    ...s,
    issue: 7,
    open: true,
    told: toldAll(s),
    labelled: ['type/ops'],
    ...extra,
  })
  const firing = merge([{ fp: 'a', status: 'firing' }])
  const resolved = merge([{ fp: 'a', status: 'firing' }], [{ fp: 'a', status: 'resolved' }])
  const refired = merge([{ fp: 'a', status: 'resolved' }], [{ fp: 'a', status: 'firing', startsAt: LATER }])
  const cases: { name: string; state: GroupState; expected: Record<string, unknown> | undefined }[] = [
    {
      name: 'first firing: open with labels',
      state: firing,
      expected: { kind: 'open', labels: ['type/ops'] },
    },
    {
      name: 'resolved before any issue: nothing',
      state: merge([{ fp: 'a', status: 'resolved' }]),
      expected: undefined,
    },
    { name: 'told and open: nothing', state: told(firing), expected: undefined },
    {
      name: 'a second alert fires: one comment',
      state: told(
        merge([
          { fp: 'a', status: 'firing' },
          { fp: 'b', status: 'firing' },
        ]),
        { told: toldAll(firing) },
      ),
      expected: { kind: 'comment', closing: false },
    },
    {
      name: 'all resolved, not told: a closing comment',
      state: told(resolved, { told: toldAll(firing) }),
      expected: { kind: 'comment', closing: true },
    },
    { name: 'all resolved and told: close', state: told(resolved), expected: { kind: 'close' } },
    { name: 'closed and quiet: nothing', state: told(resolved, { open: false }), expected: undefined },
    {
      name: 'closed and fires again: reopen first',
      state: told(refired, { open: false, told: toldAll(resolved) }),
      expected: { kind: 'reopen' },
    },
    {
      name: 'reopened: then the comment about the new episode',
      state: told(refired, { told: toldAll(resolved) }),
      expected: { kind: 'comment', closing: false },
    },
    {
      name: 'closed, an untold alert fired and resolved meanwhile: recorded, no comment',
      state: told(
        merge([
          { fp: 'a', status: 'resolved' },
          { fp: 'b', status: 'resolved' },
        ]),
        {
          open: false,
          told: toldAll(resolved),
        },
      ),
      expected: { kind: 'settle' },
    },
    {
      name: 'a label is missing: add it',
      state: told(firing, { labelled: [] }),
      expected: { kind: 'label', labels: ['type/ops'] },
    },
  ]
  it.each(cases)('$name', ({ state, expected }) => {
    const step = planGroupStep(state, labels)
    if (expected === undefined) expect(step).toBeUndefined()
    else expect(step).toMatchObject(expected)
  })

  it('a comment names exactly what changed, and the same change always has the same key', () => {
    const two = merge(
      [
        { fp: 'a', status: 'firing' },
        { fp: 'b', status: 'firing' },
      ],
      [{ fp: 'a', status: 'resolved' }],
    )
    const state = {
      ...two,
      issue: 7,
      open: true,
      told: toldAll(merge([{ fp: 'a', status: 'firing' }])),
      labelled: ['type/ops'],
    }
    const step = planGroupStep(state, labels)
    expect(step).toMatchObject({ kind: 'comment', closing: false })
    if (step?.kind !== 'comment') throw new Error('expected a comment')
    expect(step.fired.map((a) => a.fingerprint)).toEqual(['b'])
    expect(step.resolved.map((a) => a.fingerprint)).toEqual(['a'])
    expect(planGroupStep(structuredClone(state), labels)).toEqual(step)
  })
})

describe('alertLabels', () => {
  const catalogue = loadCatalogue().labels
  const cases = [
    { name: 'defaults only', ann: [{}], expected: { labels: ['type/ops'], unknown: [], refused: [] } },
    {
      name: "an alert's names come first, one per exclusive scope",
      ann: [{ gitea_labels: 'type/security, priority/p1' }],
      expected: { labels: ['type/security', 'priority/p1'], unknown: [], refused: [] },
    },
    {
      name: 'unknown names are ignored and reported',
      ann: [{ gitea_labels: 'nope,, priority/p0 ,<b>x</b>' }],
      expected: { labels: ['priority/p0', 'type/ops'], unknown: ['nope', '<b>x</b>'], refused: [] },
    },
    {
      name: 'two alerts asking for the same scope: the first wins',
      ann: [{ gitea_labels: 'priority/p2' }, { gitea_labels: 'priority/p0' }],
      expected: { labels: ['priority/p2', 'type/ops'], unknown: [], refused: [] },
    },
    {
      name: 'house labels (trigger labels) are refused, whatever their case, and reported',
      ann: [{ gitea_labels: 'house/bezalel, priority/p1' }, { gitea_labels: 'House/Ezra, house/nope' }],
      expected: {
        labels: ['priority/p1', 'type/ops'],
        unknown: [],
        refused: ['house/bezalel', 'House/Ezra', 'house/nope'],
      },
    },
  ]
  it.each(cases)('$name', ({ ann, expected }) => {
    expect(
      alertLabels(
        ann.map((annotations) => ({ annotations })),
        catalogue,
        ['type/ops'],
      ),
    ).toEqual(expected)
  })
})
