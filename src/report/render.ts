import { codeBlock, codeSpan, inlineText, mention } from '../commands-core/markdown.js'
import { renderProgress, renderSummary, type AgentProgress, type AgentSummary } from './agent-steps.js'
import type { Reaction } from '../gitea/port.js'
import type { DsseEnvelope } from '../provenance/dsse.js'
import { shownOutput, type AgentFacts, type ExecutionStatement } from '../provenance/statement.js'
import type { JobMode } from '../effects/effects.js'

export type { DsseEnvelope } from '../provenance/dsse.js'

/** The ways a job ends. */
export type FinalOutcome = 'success' | 'failure' | 'unverified' | 'denied' | 'cancelled' | 'timeout'

/** The job facts every state of the ack comment shows. */
export interface AckJob {
  jobId: string
  house: string
  tool: string
  /** Why this house (`named in the command`, `from the label house/ezra`, ...); plain text. */
  houseReason: string | undefined
  /** Who asked for the current run (after a `/retry`, who retried). */
  requester: string
  mode: JobMode
  dryRun: boolean
  /** INTELLIGENT mode: the prediction when the job was queued (`likely to succeed: 0.93 [...]`); plain text. */
  prediction?: string
  /** The run number (1, then +1 per `/retry`) and who asked for the first run, once retried. */
  run?: number
  firstRequester?: string
}

/** The state the ack comment shows. */
export type AckStatus =
  | { state: 'queued' }
  | {
      state: 'awaiting_approval'
      /** The house's sovereigns. */
      approvers: readonly string[]
      /** Whether the requester may approve their own job; if not, they are not listed as approvers. */
      allowSelfApproval: boolean
      expiresAt: string
    }
  | {
      state: 'running'
      startedAt: string
      attempt: number
      /** An agent job's live checklist. */
      agent?: AgentProgress
      /** What the running job waits for a sovereign to decide (`/approve` answers it). */
      decision?: {
        /** The request's id: `/approve <job> <id>` answers it. */
        id: string
        what: string
        digest: string
        approvers: readonly string[]
        allowSelfApproval: boolean
        expiresAt: string
      }
    }
  | {
      state: FinalOutcome
      /** Why it ended so, for anything but success (`denied by @timmy: too risky`); plain text. */
      reason: string | undefined
      /** The output (all of it: the comment shows at most `outputCap` characters). */
      output: string
      /** Remarks of the run (plain text, not signed). */
      notes?: readonly string[]
      /** The signed statement, shown as the provenance list; undefined for an unsigned result. */
      statement: ExecutionStatement | undefined
      envelope: DsseEnvelope | undefined
      /** An agent job's steps, transcript and usage (its answer is the output, shown unfolded). */
      agent?: AgentSummary
    }

/** Default cap on the output shown in a comment (Gitea has no comment size limit; people do). */
export const DEFAULT_OUTPUT_CAP = 50_000

const ICON: Record<AckStatus['state'], string> = {
  queued: '⏳',
  awaiting_approval: '✋',
  running: '⚙️',
  success: '✅',
  failure: '❌',
  unverified: '⚠️',
  denied: '🚫',
  cancelled: '⏹️',
  timeout: '⌛',
}

/** The HTML comment lines around the envelope; `readResultComment` finds it between them. */
export const DSSE_OPEN = '<!-- uni-wizard:dsse -->'
export const DSSE_CLOSE = '<!-- /uni-wizard:dsse -->'
/** The first line of a signed comment's provenance list. */
export const PROVENANCE_TITLE =
  '**Provenance** (signed: `uni-wizard verify` checks each line against the envelope)'
/** The first line of the notes, which are not signed. */
export const NOTES_TITLE = '**Notes** (not signed)'

/** `<!-- uni-wizard:ack job=… state=… -->`: the first line of every ack comment. */
export function ackMarker(jobId: string, state: string): string {
  return `<!-- uni-wizard:ack job=${jobId.replace(/[^\w.-]/g, '')} state=${state} -->`
}

/** The heading: icon, tool, house and state. */
export function ackHeading(tool: string, house: string, state: AckStatus['state'] | string): string {
  const icon = ICON[state as AckStatus['state']] ?? '❔'
  return `### ${icon} ${codeSpan(tool)} on house **${inlineText(house)}**: ${state.replace('_', ' ')}`
}

/**
 * The start of the job line: the facts a signed statement also holds (job, requester, mode, and a
 * mode it was degraded from: `mode INTELLIGENT → SIMPLE (degraded: event-loop lag 240 ms > 200 ms)`).
 */
export function jobLineStart(
  jobId: string,
  requester: string,
  mode: string,
  degraded?: { from: string; reason: string },
): string {
  const shown = degraded
    ? `${degraded.from.toUpperCase()} → ${mode.toUpperCase()} (degraded: ${inlineText(degraded.reason)})`
    : mode.toUpperCase()
  return `Job ${codeSpan(jobId)} · requested by ${mention(requester)} · mode ${shown}`
}

function header(job: AckJob, status: AckStatus): string[] {
  const dry = job.dryRun ? ' · dry run' : ''
  const retried =
    job.run !== undefined && job.run > 1
      ? ` · run ${job.run}${job.firstRequester ? `, first requested by ${mention(job.firstRequester)}` : ''}`
      : ''
  // A result shows the mode its statement signs: the one the call ran in (INTELLIGENT under stress
  // runs as SIMPLE), not only the one asked for.
  const signed = 'statement' in status ? status.statement?.predicate : undefined
  return [
    ackMarker(job.jobId, status.state),
    ackHeading(job.tool, job.house, status.state),
    '',
    jobLineStart(job.jobId, job.requester, signed?.mode ?? job.mode, signed?.degraded) +
      dry +
      retried +
      (job.houseReason ? ` · house chosen: ${inlineText(job.houseReason)}` : '') +
      (job.prediction ? ` · prediction: ${inlineText(job.prediction)}` : ''),
  ]
}

const count = (n: number) => n.toLocaleString('en')

/** A timestamp the bot or its harness wrote; anything else that turns up there is shown inert. */
const when = (t: string) => (/^[\w:.+-]*$/.test(t) ? t : inlineText(t))

/** The `<summary>` line of the output block. */
export function outputSummary(shownChars: number, totalChars: number): string {
  return shownChars < totalChars
    ? `<summary>Output (first ${count(shownChars)} of ${count(totalChars)} characters)</summary>`
    : `<summary>Output (${count(totalChars)} characters)</summary>`
}

/** The line under a cut output. */
export function cutNote(shownChars: number, totalChars: number): string {
  return `_Only the first ${count(shownChars)} of ${count(totalChars)} characters are shown; the signed output digest covers all of it._`
}

/** The output block; an agent's answer is shown open (`<details open>`), a tool's output folded. */
export const OUTPUT_OPEN = '<details open>'

function outputBlock(output: string, cap: number, open = false): string[] {
  const shown = shownOutput(output, cap)
  const lines = [
    open ? OUTPUT_OPEN : '<details>',
    outputSummary(shown.length, output.length),
    '',
    codeBlock(shown, 'text'),
    '',
  ]
  if (shown.length < output.length) lines.push(cutNote(shown.length, output.length), '')
  lines.push('</details>')
  return lines
}

/**
 * The provenance list: one signed fact per line, each rendered only from the statement, so
 * `uni-wizard verify` renders it again from the verified statement and compares line by line.
 *
 * @example
 *   provenanceLines(statement)[0] // { field: 'job id', line: '- job: `j0123456789ab`' }
 */
export function provenanceLines(s: ExecutionStatement): { field: string; line: string }[] {
  const p = s.predicate
  const digest = `sha256:${s.subject[0]?.digest.sha256 ?? ''}`
  const out = p.output
  const outputFacts = out
    ? ` (${count(out.chars)} characters${out.shown ? `; the first ${count(out.shown.chars)} have ${codeSpan(`sha256:${out.shown.sha256}`)}` : ''})`
    : ''
  const lines: { field: string; line: string }[] = [
    { field: 'job id', line: `- job: ${p.jobId !== undefined ? codeSpan(p.jobId) : 'not signed'}` },
    { field: 'status', line: `- status: ${inlineText(p.status)}` },
    { field: 'tool', line: `- tool: ${codeSpan(p.tool)}` },
    { field: 'house', line: `- house: **${inlineText(p.house)}**` },
    { field: 'requester', line: `- requested by: ${mention(p.requestedBy)}` },
  ]
  if (p.retryOf)
    lines.push({
      field: 'retry of',
      line: `- retry of: job ${codeSpan(p.retryOf.jobId)}, first requested by ${mention(p.retryOf.requestedBy)}`,
    })
  for (const dep of p.resolvedDependencies ?? []) {
    const commit = dep.digest?.gitCommit
    if (commit === undefined) continue
    const at = dep.annotations ?? {}
    const repo = typeof at.repo === 'string' ? ` of ${codeSpan(at.repo)}` : ''
    const target = typeof at.target === 'string' ? ` (${codeSpan(at.target)})` : ''
    lines.push({ field: 'commit', line: `- commit: ${codeSpan(commit)}${repo}${target}` })
  }
  if (p.agent) lines.push(...agentLines(p.agent))
  lines.push(
    {
      field: 'mode',
      line: `- mode: ${inlineText(p.mode)}${p.degraded ? ` (degraded from ${inlineText(p.degraded.from)}: ${inlineText(p.degraded.reason)})` : ''}`,
    },
    {
      field: 'request',
      line: `- asked in: ${codeSpan(p.requestUrl ?? 'unknown')}, delivery ${codeSpan(p.deliveryId ?? 'unknown')}`,
    },
    { field: 'args digest', line: `- args digest: ${codeSpan(p.argsDigest)}` },
    { field: 'output digest', line: `- output digest: ${codeSpan(digest)}${outputFacts}` },
    {
      field: 'run',
      line: `- ran on: ${codeSpan(p.host)}, from ${when(p.startedAt)} to ${when(p.finishedAt)}, ${p.attempts} attempt(s)`,
    },
    {
      field: 'evidence',
      line: `- evidence: ${p.evidence.length > 0 ? p.evidence.map((e) => inlineText(`${e.kind}: ${e.summary}`)).join('; ') : 'none'}`,
    },
    {
      field: 'approvals',
      line: `- approvals: ${p.approvals.length > 0 ? p.approvals.map((a) => `${mention(a.approver)} (valid until ${when(a.expiresAt)})`).join(', ') : 'none'}`,
    },
  )
  if (p.error !== undefined) lines.push({ field: 'error', line: `- error: ${inlineText(p.error)}` })
  return lines
}

/** How many files read an agent line lists before it says how many more. */
const FILES_LISTED = 20

/** The provenance lines of an agent task's facts (`ExecutionPredicate.agent`). */
function agentLines(a: AgentFacts): { field: string; line: string }[] {
  const u = a.usage
  const out = [
    {
      field: 'agent',
      line: `- agent: ${codeSpan(a.backend)}${a.model !== undefined ? ` model ${codeSpan(a.model)}` : ''}${a.runId !== undefined ? `, run ${codeSpan(a.runId)}` : ''}, ${a.turns} turn(s), ${count(u.totalTokens)} tokens (${count(u.inputTokens)} in, ${count(u.outputTokens)} out)`,
    },
    { field: 'prompt', line: `- prompt digest: ${codeSpan(`sha256:${a.promptSha256}`)}` },
    {
      field: 'event log',
      line: `- event log: ${codeSpan(`sha256:${a.eventLog.sha256}`)} (${count(a.eventLog.events)} events)`,
    },
  ]
  if (a.diffSha256 !== undefined)
    out.push({ field: 'diff', line: `- diff: ${codeSpan(`sha256:${a.diffSha256}`)}` })
  if (a.pullRequest)
    out.push({
      field: 'pull request',
      line: `- pull request: #${a.pullRequest.number} ${codeSpan(a.pullRequest.url)}`,
    })
  if (a.filesRead && a.filesRead.length > 0) {
    const listed = a.filesRead
      .slice(0, FILES_LISTED)
      .map((f) => `${codeSpan(f.path)} (${codeSpan(`sha256:${f.sha256.slice(0, 12)}`)})`)
    const more = a.filesRead.length - FILES_LISTED
    out.push({
      field: 'files read',
      line: `- files read: ${listed.join(', ')}${more > 0 ? `, and ${more} more` : ''}`,
    })
  }
  return out
}

/**
 * The envelope as a collapsed block at the end of a result comment, the one place
 * `readResultComment` (and so `uni-wizard verify`) takes it from.
 */
export function renderEnvelope(envelope: DsseEnvelope): string {
  return [
    '<details>',
    '<summary>Signed provenance (DSSE envelope, check with <code>uni-wizard verify</code>)</summary>',
    '',
    DSSE_OPEN,
    codeBlock(JSON.stringify(envelope, null, 2), 'json'),
    DSSE_CLOSE,
    '',
    '</details>',
  ].join('\n')
}

/** Who can approve: the house's sovereigns, less the requester unless the house allows self-approval. */
function approvalLine(job: AckJob, approvers: readonly string[], allowSelf: boolean): string {
  const self = (a: string) => a.toLowerCase() === job.requester.toLowerCase()
  const eligible = approvers.filter((a) => allowSelf || !self(a))
  if (eligible.length > 0) return `Waiting for approval by ${eligible.map(mention).join(' or ')}`
  const why =
    approvers.length > 0
      ? `its only sovereign is its requester (${mention(job.requester)}), and house **${inlineText(job.house)}** does not allow self-approval`
      : `house **${inlineText(job.house)}** has no sovereigns`
  return `Waiting for approval, but nobody can approve it: ${why}. Add a sovereign to ${codeSpan(`houses.${job.house}.sovereigns`)}, or deny or cancel it`
}

/**
 * The ack comment for a job in any state. The reporter posts it once per command and edits it in
 * place as the job moves; pure, so each state is a table test. All text that did not come from
 * the bot (reasons, notes, house reasons, logins, output) goes through the inert helpers of
 * `commands-core/markdown.ts`.
 *
 * @example
 *   renderAck(job, { state: 'awaiting_approval', approvers: ['timmy'], allowSelfApproval: false, expiresAt: '2026-01-01T00:00:00Z' })
 *   // contains the line: /approve j0123456789ab
 */
export function renderAck(job: AckJob, status: AckStatus, opts: { outputCap?: number } = {}): string {
  const lines = header(job, status)
  lines.push('')
  switch (status.state) {
    case 'queued':
      lines.push(`Queued on ${codeSpan(`house-${job.house}`)}. This comment is updated as the job runs.`)
      break
    case 'awaiting_approval':
      lines.push(
        `${approvalLine(job, status.approvers, status.allowSelfApproval)} (until ${when(status.expiresAt)}). To approve, comment:`,
        '',
        codeBlock(`/approve ${job.jobId}`),
        '',
        `or ${codeSpan(`/deny ${job.jobId} <reason>`)} to refuse it.`,
      )
      break
    case 'running':
      lines.push(
        `Running since ${when(status.startedAt)}${status.attempt > 1 ? ` (attempt ${status.attempt})` : ''}.`,
      )
      if (status.decision) {
        const d = status.decision
        lines.push(
          '',
          `${approvalLine(job, d.approvers, d.allowSelfApproval)} (until ${when(d.expiresAt)}) of: ${inlineText(d.what)} (digest ${codeSpan(d.digest)}). To approve, comment:`,
          '',
          codeBlock(`/approve ${job.jobId} ${d.id}`),
          '',
          `or ${codeSpan(`/deny ${job.jobId} <reason>`)} to refuse it.`,
        )
      }
      if (status.agent) lines.push(...renderProgress(status.agent))
      break
    default: {
      if (status.reason) lines.push(`Reason: ${inlineText(status.reason)}`, '')
      // A signed statement says how much of the output its comment shows (all of it when it has
      // no `shown` part): render exactly that, or the check of the comment would fail.
      const signed = status.statement?.predicate.output
      const cap = signed ? (signed.shown?.chars ?? Infinity) : (opts.outputCap ?? DEFAULT_OUTPUT_CAP)
      lines.push(...outputBlock(status.output, cap, status.agent !== undefined))
      if (status.agent) lines.push(...renderSummary(status.agent))
      if (status.notes && status.notes.length > 0)
        lines.push('', NOTES_TITLE, '', ...status.notes.map((n) => `- ${inlineText(n)}`))
      if (status.statement)
        lines.push('', PROVENANCE_TITLE, '', ...provenanceLines(status.statement).map((l) => l.line))
      if (status.envelope) lines.push('', renderEnvelope(status.envelope))
    }
  }
  const final = !['queued', 'awaiting_approval', 'running'].includes(status.state)
  if (!final)
    lines.push(
      '',
      `Type ${codeSpan(`/status ${job.jobId}`)} for its state or ${codeSpan(`/cancel ${job.jobId}`)} to stop it.`,
    )
  return lines.join('\n')
}

/**
 * The reaction the reporter puts on the command comment when a job ends.
 *
 * @example
 *   finalReaction('success') // 'rocket'
 */
export function finalReaction(outcome: FinalOutcome): Reaction {
  return outcome === 'success' ? 'rocket' : 'confused'
}
