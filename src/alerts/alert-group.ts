import { createHash } from 'node:crypto'
import { z } from 'zod'
import type { AlertmanagerAlert, AlertmanagerNotification } from './alertmanager-notification.js'

/** What the bridge keeps of one alert: enough to decide what changed and to render it. */
export const KnownAlert = z.object({
  fingerprint: z.string(),
  status: z.enum(['firing', 'resolved']),
  startsAt: z.string(),
  endsAt: z.string(),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()),
})
export type KnownAlert = z.infer<typeof KnownAlert>

/**
 * A random value carried in the marker of the issue or comment a pending call creates, so only
 * the bridge knows that marker. Optional: calls written ahead before nonces existed have none.
 */
const Nonce = z
  .string()
  .regex(/^[0-9a-f]{32}$/)
  .optional()

/**
 * A Gitea call in flight, written before it is sent: after a crash the next delivery looks for
 * its marker in Gitea and, when found, records the state the call was to leave (write-ahead).
 */
export const PendingCall = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('open'),
    nonce: Nonce,
    told: z.record(z.string(), z.string()),
    labelled: z.array(z.string()),
  }),
  z.object({
    kind: z.literal('comment'),
    key: z.string(),
    nonce: Nonce,
    told: z.record(z.string(), z.string()),
  }),
])
export type PendingCall = z.infer<typeof PendingCall>

/** One alert group as the bridge knows it, stored in Redis (alert-group-store.ts). */
export const GroupState = z.object({
  groupKey: z.string(),
  groupLabels: z.record(z.string(), z.string()),
  receiver: z.string(),
  externalURL: z.string(),
  /** Alerts Alertmanager left out of the last notification (`max_alerts`). */
  truncatedAlerts: z.number().int(),
  /** Every alert ever seen in the group, by fingerprint, merged so order and repeats do not matter. */
  known: z.record(z.string(), KnownAlert),
  /** The group's issue, once opened. */
  issue: z.number().int().positive().optional(),
  /** Whether the bridge left the issue open. */
  open: z.boolean(),
  /** What the issue already tells of each alert: fingerprint → `status@startsAt`. */
  told: z.record(z.string(), z.string()),
  /** Label names the bridge put on the issue. */
  labelled: z.array(z.string()),
  pending: PendingCall.optional(),
})
export type GroupState = z.infer<typeof GroupState>

/** The group's id: a hash of its `groupKey` (which holds label values of any length). */
export function groupId(groupKey: string): string {
  return createHash('sha256').update(groupKey).digest('hex').slice(0, 32)
}

/** `status@startsAt`: what one alert's line in the issue says. Each firing episode has its own startsAt. */
export function toldOf(a: Pick<KnownAlert, 'status' | 'startsAt'>): string {
  return `${a.status}@${a.startsAt}`
}

/** Milliseconds since the epoch; Alertmanager writes up to nanoseconds, Date.parse reads milliseconds. */
function epochMs(ts: string): number {
  return Date.parse(ts.replace(/(\.\d{3})\d+/, '$1'))
}

/**
 * Whether `incoming` is at least as new as `stored`: a later firing episode (later `startsAt`),
 * or the same episode resolved. A redelivered older notification, or a firing copy from a second
 * Alertmanager that arrives after the resolution, changes nothing.
 */
function notOlder(incoming: AlertmanagerAlert, stored: KnownAlert | undefined): boolean {
  if (!stored) return true
  const a = epochMs(incoming.startsAt)
  const b = epochMs(stored.startsAt)
  if (a !== b) return a > b
  return !(stored.status === 'resolved' && incoming.status === 'firing')
}

/** An empty group for a notification's group. */
export function newGroup(n: AlertmanagerNotification): GroupState {
  return {
    groupKey: n.groupKey,
    groupLabels: n.groupLabels,
    receiver: n.receiver,
    externalURL: n.externalURL,
    truncatedAlerts: 0,
    known: {},
    open: false,
    told: {},
    labelled: [],
  }
}

/**
 * Merges a notification into what is known of its group. Per alert, the newer state wins
 * (`notOlder`), so merging is commutative and idempotent: redeliveries, and the copies two
 * Alertmanagers in HA send in either order, converge on the same state.
 *
 * @example
 *   const next = mergeNotification(state ?? newGroup(n), n)
 */
export function mergeNotification(state: GroupState, n: AlertmanagerNotification): GroupState {
  const known = { ...state.known }
  for (const a of n.alerts) {
    if (!notOlder(a, known[a.fingerprint])) continue
    known[a.fingerprint] = {
      fingerprint: a.fingerprint,
      status: a.status,
      startsAt: a.startsAt,
      endsAt: a.endsAt,
      labels: a.labels,
      annotations: a.annotations,
    }
  }
  return { ...state, known, truncatedAlerts: n.truncatedAlerts }
}

/** The next Gitea step that brings the issue in line with what is known, or undefined when it is. */
export type GroupStep =
  /** Open the group's issue with `labels`, telling every known alert. */
  | { kind: 'open'; labels: string[] }
  | { kind: 'reopen' }
  /** One comment telling the alerts that fired or resolved since the issue last told them. */
  | { kind: 'comment'; key: string; fired: KnownAlert[]; resolved: KnownAlert[]; closing: boolean }
  | { kind: 'label'; labels: string[] }
  | { kind: 'close' }
  /** Changes nobody needs to read (an alert that fired and resolved while the issue was closed): recorded only. */
  | { kind: 'settle' }

const byStart = (a: KnownAlert, b: KnownAlert) => epochMs(a.startsAt) - epochMs(b.startsAt)

/** The told map of every known alert: what the issue tells once the pending changes are told. */
export function toldAll(state: GroupState): Record<string, string> {
  return Object.fromEntries(Object.values(state.known).map((a) => [a.fingerprint, toldOf(a)]))
}

/**
 * Decides the next step for a group (pure; the bridge applies it and asks again):
 * open when an alert fires and there is no issue; reopen a closed issue when one fires again;
 * comment once per change; add labels newly firing alerts ask for; close when nothing fires.
 * `labelsFor` names the catalogue labels the given firing alerts ask for.
 *
 * @example
 *   planGroupStep(state, (alerts) => ['type/ops']) // { kind: 'open', labels: ['type/ops'] }
 */
export function planGroupStep(
  state: GroupState,
  labelsFor: (firing: KnownAlert[]) => string[],
): GroupStep | undefined {
  const alerts = Object.values(state.known).sort(byStart)
  const firing = alerts.filter((a) => a.status === 'firing')
  if (state.issue === undefined)
    return firing.length > 0 ? { kind: 'open', labels: labelsFor(firing) } : undefined
  if (!state.open && firing.length > 0) return { kind: 'reopen' }
  const changed = alerts.filter((a) => state.told[a.fingerprint] !== toldOf(a))
  if (changed.length > 0) {
    if (!state.open) return { kind: 'settle' }
    const fired = changed.filter((a) => a.status === 'firing')
    const resolved = changed.filter((a) => a.status === 'resolved')
    const key = createHash('sha256')
      .update(`${state.issue}\n${changed.map((a) => `${a.fingerprint}=${toldOf(a)}`).join('\n')}`)
      .digest('hex')
      .slice(0, 24)
    return { kind: 'comment', key, fired, resolved, closing: firing.length === 0 }
  }
  if (state.open && firing.length > 0) {
    const missing = labelsFor(firing).filter((l) => !state.labelled.includes(l))
    if (missing.length > 0) return { kind: 'label', labels: missing }
  }
  if (state.open && firing.length === 0) return { kind: 'close' }
  return undefined
}
