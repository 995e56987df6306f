import { codeSpan as inertCodeSpan, inlineText, plainTitle, WORD_JOINER } from '../commands-core/markdown.js'
import type { GroupState, KnownAlert } from './alert-group.js'
import type { AlertLabels } from './alert-labels.js'

/** The label names alerts asked for and did not get, told in the issue so the rule can be fixed. */
export type LabelNotes = Pick<AlertLabels, 'unknown' | 'refused'>

/** ` nonce=<nonce>`, or nothing for a call written ahead before markers had nonces. */
const withNonce = (nonce: string | undefined) => (nonce === undefined ? '' : ` nonce=${nonce}`)

/**
 * The hidden marker that opens the body of a group's issue, so a crashed open is found, not
 * repeated. `nonce` is random and written ahead with the pending open (alert-group.ts), so nobody
 * who knows the group can forge the marker of an issue the bridge is about to open.
 */
export function groupMarker(gid: string, nonce: string | undefined): string {
  return `<!-- uw:alert-group=${gid}${withNonce(nonce)} -->`
}

/** The hidden marker that opens one change comment, with the nonce of its pending write. */
export function changeMarker(key: string, nonce: string | undefined): string {
  return `<!-- uw:alert-change=${key}${withNonce(nonce)} -->`
}

/**
 * A code span of alert text that cannot hold an HTML comment opener: Markdown keeps `<!--`
 * verbatim inside code, and the raw text must never carry anything that reads like a marker.
 * A WORD JOINER between `<` and `!` renders the same and is no longer `<!--`.
 */
function codeSpan(text: string): string {
  return inertCodeSpan(text.replaceAll('<!--', `<${WORD_JOINER}!--`))
}

/** Longest annotation text shown per alert. */
const TEXT_MAX = 500
/** Most alerts listed in one issue body or comment; the rest are counted. */
const LIST_MAX = 50
const TITLE_MAX = 200

const short = (s: string, max: number) => (s.length > max ? `${s.slice(0, max)}…` : s)

const pairs = (m: Record<string, string>) =>
  Object.entries(m)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => codeSpan(`${k}=${short(v, 200)}`))
    .join(' ')

/** The issue title: the group's alert name and its other group labels. */
export function alertIssueTitle(state: GroupState): string {
  const first = Object.values(state.known)[0]
  const name = state.groupLabels.alertname ?? first?.labels.alertname ?? 'alert group'
  const rest = Object.entries(state.groupLabels)
    .filter(([k]) => k !== 'alertname')
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
  return short(plainTitle(`Alert: ${name}${rest.length > 0 ? ` (${rest.join(', ')})` : ''}`), TITLE_MAX)
}

/** One alert as a list item: status, name, since, its summary and description (inert), its labels. */
function alertLine(a: KnownAlert): string {
  const name = a.labels.alertname ?? 'alert'
  const when = a.status === 'firing' ? `since ${codeSpan(a.startsAt)}` : `ended ${codeSpan(a.endsAt)}`
  const text = [a.annotations.summary, a.annotations.description]
    .filter((t): t is string => !!t && t.trim() !== '')
    .map((t) => inlineText(short(t, TEXT_MAX)))
    .join(' — ')
  const labels = Object.fromEntries(Object.entries(a.labels).filter(([k]) => k !== 'alertname'))
  return [
    `- **${a.status}** ${codeSpan(name)} ${when}${text ? `: ${text}` : ''}`,
    ...(Object.keys(labels).length > 0 ? [`  labels: ${pairs(labels)}`] : []),
    ...(a.annotations.runbook_url ? [`  runbook: ${codeSpan(a.annotations.runbook_url)}`] : []),
  ].join('\n')
}

function alertList(alerts: readonly KnownAlert[]): string {
  const lines = alerts.slice(0, LIST_MAX).map(alertLine)
  if (alerts.length > LIST_MAX) lines.push(`- … and ${alerts.length - LIST_MAX} more`)
  return lines.join('\n')
}

const names = (list: readonly string[]) => list.map((u) => codeSpan(u)).join(' ')

function notes(state: GroupState, { unknown, refused }: LabelNotes): string[] {
  return [
    ...(unknown.length > 0 ? [`Ignored label names (not in the label catalogue): ${names(unknown)}`] : []),
    ...(refused.length > 0
      ? [
          `Refused label names (they route commands or start agent tasks; alerts may not set them): ${names(refused)}`,
        ]
      : []),
    ...(state.truncatedAlerts > 0
      ? [`Alertmanager left out ${state.truncatedAlerts} more alerts of this group (its \`max_alerts\`).`]
      : []),
  ]
}

/**
 * The body of a group's issue. Every alert text (labels, annotations, URLs) is someone else's and
 * is rendered inert: prose through `inlineText`, values in code spans.
 */
export function alertIssueBody(marker: string, state: GroupState, labelNotes: LabelNotes): string {
  const alerts = Object.values(state.known)
  const firing = alerts.filter((a) => a.status === 'firing')
  const resolved = alerts.filter((a) => a.status === 'resolved')
  return [
    marker,
    `Alertmanager reports ${firing.length} firing alert${firing.length === 1 ? '' : 's'} in this group.`,
    '',
    alertList(firing),
    ...(resolved.length > 0 ? ['', 'Already resolved:', '', alertList(resolved)] : []),
    '',
    `Group: ${codeSpan(state.groupKey)}, receiver ${codeSpan(state.receiver)}, from ${codeSpan(state.externalURL)}.`,
    ...notes(state, labelNotes).map((n) => `\n${n}`),
    '',
    'uni-wizard comments here when alerts of the group fire or resolve, closes this issue when all are resolved and reopens it when one fires again.',
  ].join('\n')
}

/** A comment telling what changed in the group since the issue last told it. */
export function alertChangeComment(
  marker: string,
  state: GroupState,
  change: { fired: readonly KnownAlert[]; resolved: readonly KnownAlert[]; closing: boolean },
  labelNotes: LabelNotes,
): string {
  return [
    marker,
    ...(change.fired.length > 0 ? ['Firing:', '', alertList(change.fired), ''] : []),
    ...(change.resolved.length > 0 ? ['Resolved:', '', alertList(change.resolved), ''] : []),
    change.closing
      ? 'Every alert of this group is resolved: closing.'
      : `${Object.values(state.known).filter((a) => a.status === 'firing').length} alert(s) of this group still firing.`,
    ...notes(state, labelNotes).map((n) => `\n${n}`),
  ].join('\n')
}
