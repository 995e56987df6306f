import { z } from 'zod'
import { codeBlock } from '../commands-core/markdown.js'
import type { Reaction } from '../gitea/port.js'
import type { JobMode } from './effects.js'

/** The ways a job ends. */
export type FinalOutcome = 'success' | 'failure' | 'unverified' | 'denied' | 'cancelled' | 'timeout'

/** A DSSE envelope (https://github.com/secure-systems-lab/dsse), as embedded in result comments. */
export const DsseEnvelope = z.object({
  payloadType: z.string().min(1),
  payload: z.string(),
  signatures: z.array(z.object({ keyid: z.string().default(''), sig: z.string().min(1) })).min(1),
})
export type DsseEnvelope = z.infer<typeof DsseEnvelope>

/** The job facts every state of the ack comment shows. */
export interface AckJob {
  jobId: string
  house: string
  tool: string
  /** Why this house (`named in the command`, `from the label house/ezra`, ...). */
  houseReason: string | undefined
  requester: string
  mode: JobMode
  dryRun: boolean
}

/** The short, human half of the provenance; the signed half is the envelope. */
export interface ProvenanceSummary {
  requester: string
  commentUrl: string
  deliveryId: string
  house: string
  mode: JobMode
  tool: string
  argsDigest: string
  workerHost: string
  startedAt: string
  finishedAt: string
  attempts: number
  outputDigest: string
  /** One line per piece of evidence. */
  evidence: string[]
  approvals: { by: string; at: string }[]
}

/** The state the ack comment shows. */
export type AckStatus =
  | { state: 'queued' }
  | { state: 'awaiting_approval'; approvers: readonly string[]; expiresAt: string }
  | { state: 'running'; startedAt: string; attempt: number }
  | {
      state: FinalOutcome
      /** Why it ended so, for anything but success (`denied by @timmy: too risky`). */
      reason: string | undefined
      output: string
      provenance: ProvenanceSummary | undefined
      envelope: DsseEnvelope | undefined
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

const DSSE_OPEN = '<!-- uni-wizard:dsse -->'
const DSSE_CLOSE = '<!-- /uni-wizard:dsse -->'

function header(job: AckJob, status: AckStatus): string[] {
  const label = status.state.replace('_', ' ')
  const mode = ` · mode ${job.mode}`
  const dry = job.dryRun ? ' · dry run' : ''
  return [
    `<!-- uni-wizard:ack job=${job.jobId} state=${status.state} -->`,
    `### ${ICON[status.state]} \`${job.tool}\` on house **${job.house}**: ${label}`,
    '',
    `Job \`${job.jobId}\` · requested by @${job.requester}${mode}${dry}` +
      (job.houseReason ? ` · house chosen: ${job.houseReason}` : ''),
  ]
}

function outputBlock(output: string, cap: number): string[] {
  const truncated = output.length > cap
  const shown = truncated ? output.slice(0, cap) : output
  const summary = truncated
    ? `Output (truncated: first ${cap.toLocaleString('en')} of ${output.length.toLocaleString('en')} characters)`
    : `Output (${output.length.toLocaleString('en')} characters)`
  const lines = ['<details>', `<summary>${summary}</summary>`, '', codeBlock(shown, 'text'), '']
  if (truncated)
    lines.push(
      `_Output truncated after ${cap.toLocaleString('en')} characters; the audit log keeps the digest of all of it._`,
      '',
    )
  lines.push('</details>')
  return lines
}

function provenanceLines(p: ProvenanceSummary): string[] {
  const approvals = p.approvals.length > 0 ? p.approvals.map((a) => `@${a.by} at ${a.at}`).join(', ') : 'none'
  return [
    '**Provenance**',
    '',
    `- asked by @${p.requester} in ${p.commentUrl} (delivery \`${p.deliveryId}\`)`,
    `- house **${p.house}**, mode ${p.mode}, tool \`${p.tool}\`, args digest \`${p.argsDigest}\``,
    `- ran on \`${p.workerHost}\` from ${p.startedAt} to ${p.finishedAt}, ${p.attempts} attempt(s)`,
    `- output digest \`${p.outputDigest}\``,
    `- evidence: ${p.evidence.length > 0 ? p.evidence.join('; ') : 'none'}`,
    `- approvals: ${approvals}`,
  ]
}

/**
 * The envelope as a collapsed block that `extractDsseEnvelopes` (and so `uni-wizard verify`) finds:
 * a fenced json block between HTML-comment markers.
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

/**
 * The ack comment for a job in any state. The reporter posts it once per command and edits it in
 * place as the job moves; pure, so each state is a table test.
 *
 * @example
 *   renderAck(job, { state: 'awaiting_approval', approvers: ['timmy'], expiresAt: '2026-01-01T00:00:00Z' })
 *   // contains the line: /approve j0123456789ab
 */
export function renderAck(job: AckJob, status: AckStatus, opts: { outputCap?: number } = {}): string {
  const lines = header(job, status)
  lines.push('')
  switch (status.state) {
    case 'queued':
      lines.push(`Queued on \`house-${job.house}\`. This comment is updated as the job runs.`)
      break
    case 'awaiting_approval':
      lines.push(
        `Waiting for approval by ${status.approvers.map((a) => `@${a}`).join(', ') || 'a sovereign'} (until ${status.expiresAt}). To approve, comment:`,
        '',
        codeBlock(`/approve ${job.jobId}`),
        '',
        `or \`/deny ${job.jobId} <reason>\` to refuse it.`,
      )
      break
    case 'running':
      lines.push(
        `Running since ${status.startedAt}${status.attempt > 1 ? ` (attempt ${status.attempt})` : ''}.`,
      )
      break
    default:
      if (status.reason) lines.push(`Reason: ${status.reason}`, '')
      lines.push(...outputBlock(status.output, opts.outputCap ?? DEFAULT_OUTPUT_CAP))
      if (status.provenance) lines.push('', ...provenanceLines(status.provenance))
      if (status.envelope) lines.push('', renderEnvelope(status.envelope))
  }
  const final = !['queued', 'awaiting_approval', 'running'].includes(status.state)
  if (!final)
    lines.push('', `Type \`/status ${job.jobId}\` for its state or \`/cancel ${job.jobId}\` to stop it.`)
  return lines.join('\n')
}

/**
 * Every well-formed DSSE envelope embedded by `renderEnvelope` in a text (a comment body, pasted or
 * piped). Tolerates CRLF and `> ` quoting; skips blocks that are not valid envelopes.
 *
 * @example
 *   extractDsseEnvelopes(comment.body)[0]?.payloadType // 'application/vnd.in-toto+json'
 */
export function extractDsseEnvelopes(text: string): DsseEnvelope[] {
  const lines = text.split(/\r\n|\r|\n/).map((l) => l.replace(/^(?:[ \t]*>[ \t]?)+/, ''))
  const found: DsseEnvelope[] = []
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() !== DSSE_OPEN) continue
    const fence = /^(`{3,})json\s*$/.exec(lines[i + 1]?.trim() ?? '')
    if (!fence) continue
    const end = lines.findIndex((l, j) => j > i + 1 && l.trim() === fence[1])
    if (end === -1) continue
    try {
      const parsed = DsseEnvelope.safeParse(JSON.parse(lines.slice(i + 2, end).join('\n')))
      if (parsed.success) found.push(parsed.data)
    } catch {
      // Not JSON: not an envelope.
    }
    i = end
  }
  return found
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
