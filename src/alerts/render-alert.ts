import { codeSpan, inlineText, plainTitle } from '../commands-core/markdown.js'
import type { GroupState, KnownAlert } from './alert-group.js'

/** The hidden marker that ties an issue to its alert group, so a crashed open is found, not repeated. */
export function groupMarker(gid: string): string {
  return `<!-- uw:alert-group=${gid} -->`
}

/** The hidden marker of one change comment. */
export function changeMarker(key: string): string {
  return `<!-- uw:alert-change=${key} -->`
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

function notes(state: GroupState, unknown: readonly string[]): string[] {
  return [
    ...(unknown.length > 0
      ? [`Ignored label names (not in the label catalogue): ${unknown.map((u) => codeSpan(u)).join(' ')}`]
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
export function alertIssueBody(gid: string, state: GroupState, unknownLabels: readonly string[]): string {
  const alerts = Object.values(state.known)
  const firing = alerts.filter((a) => a.status === 'firing')
  const resolved = alerts.filter((a) => a.status === 'resolved')
  return [
    groupMarker(gid),
    `Alertmanager reports ${firing.length} firing alert${firing.length === 1 ? '' : 's'} in this group.`,
    '',
    alertList(firing),
    ...(resolved.length > 0 ? ['', 'Already resolved:', '', alertList(resolved)] : []),
    '',
    `Group: ${codeSpan(state.groupKey)}, receiver ${codeSpan(state.receiver)}, from ${codeSpan(state.externalURL)}.`,
    ...notes(state, unknownLabels).map((n) => `\n${n}`),
    '',
    'uni-wizard comments here when alerts of the group fire or resolve, closes this issue when all are resolved and reopens it when one fires again.',
  ].join('\n')
}

/** A comment telling what changed in the group since the issue last told it. */
export function alertChangeComment(
  key: string,
  state: GroupState,
  change: { fired: readonly KnownAlert[]; resolved: readonly KnownAlert[]; closing: boolean },
  unknownLabels: readonly string[],
): string {
  return [
    changeMarker(key),
    ...(change.fired.length > 0 ? ['Firing:', '', alertList(change.fired), ''] : []),
    ...(change.resolved.length > 0 ? ['Resolved:', '', alertList(change.resolved), ''] : []),
    change.closing
      ? 'Every alert of this group is resolved: closing.'
      : `${Object.values(state.known).filter((a) => a.status === 'firing').length} alert(s) of this group still firing.`,
    ...notes(state, unknownLabels).map((n) => `\n${n}`),
  ].join('\n')
}
