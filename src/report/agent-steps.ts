import { z } from 'zod'
import { codeBlock, codeSpan, inlineText } from '../commands-core/markdown.js'

/**
 * What an agent job's comment shows of its run: the live checklist of tool calls while it runs,
 * then the same steps, the transcript (folded, capped) and the usage in the final comment. Written
 * by the worker, rendered here; everything the agent wrote goes through the inert helpers.
 */
export const AgentStep = z.object({
  tool: z.string().max(200),
  /** `running`, then the harness status (`success`, `failure`, `denied`, ...). */
  status: z.string().max(40),
  /** A short, redacted preview of the arguments. */
  args: z.string().max(300).optional(),
  durationMs: z.number().nonnegative().optional(),
})
export type AgentStep = z.infer<typeof AgentStep>

export const AgentProgress = z.object({
  steps: z.array(AgentStep).max(500),
  /** Steps left out of `steps` (the oldest), when a run has more than the comment shows. */
  earlier: z.number().int().nonnegative().default(0),
  /** The last thing the agent said, capped. */
  message: z.string().max(2000).optional(),
  totalTokens: z.number().int().nonnegative(),
  updatedAt: z.string(),
  /** A sovereign's answer the run is waiting for, if any. */
  waitingFor: z.string().max(500).optional(),
})
export type AgentProgress = z.infer<typeof AgentProgress>

/** What the final comment shows of an agent job besides its signed answer. */
export const AgentSummary = z.object({
  backend: z.string(),
  model: z.string().optional(),
  steps: z.array(AgentStep).max(500),
  earlier: z.number().int().nonnegative().default(0),
  /** The transcript (messages and tool calls), capped; shown folded. */
  transcript: z.string(),
  totalTokens: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative(),
  pullRequest: z.object({ number: z.number().int().positive(), url: z.string() }).optional(),
  /** The branch that holds the work when no pull request was opened (proof failed). */
  branch: z.string().optional(),
  /** The proof commands' output (its end), shown folded when the proof did not pass. */
  proofOutput: z.string().optional(),
  /** The proof commands' table rows. */
  proof: z
    .array(
      z.object({
        name: z.string(),
        exitCode: z.number().int().nullable(),
        timedOut: z.boolean(),
        durationMs: z.number(),
      }),
    )
    .optional(),
})
export type AgentSummary = z.infer<typeof AgentSummary>

/** The first line of the steps section; `readResultComment` knows it. */
export const STEPS_TITLE = '**Agent steps** (not signed; the signed event log digest covers them)'
/** The `<summary>` of the folded proof output. */
export const PROOF_OUTPUT_SUMMARY = '<summary>Proof output (not signed; its digests are)</summary>'
/** The `<summary>` of the folded transcript. */
export const TRANSCRIPT_SUMMARY =
  '<summary>Transcript (not signed; the signed event log digest covers it)</summary>'

const MARK: Record<string, string> = {
  running: '⏳',
  success: '✅',
  failure: '❌',
  denied: '🚫',
  unverified: '⚠️',
  timeout: '⌛',
  cancelled: '⏹️',
}

/** One checklist line: `- [x] ✅ `tool` `args``. Only code spans and fixed words: inert. */
export function stepLine(s: AgentStep): string {
  const done = s.status !== 'running'
  const args = s.args !== undefined && s.args.length > 0 ? ` ${codeSpan(s.args)}` : ''
  const took = s.durationMs !== undefined ? ` (${Math.round(s.durationMs)} ms)` : ''
  return `- [${done ? 'x' : ' '}] ${MARK[s.status] ?? '•'} ${codeSpan(s.tool)}${args}: ${inlineText(s.status)}${took}`
}

/** The checklist lines of a list of steps. */
export function stepLines(steps: readonly AgentStep[], earlier: number): string[] {
  const lines = steps.map(stepLine)
  if (earlier > 0) lines.unshift(`- … ${earlier} earlier step(s) not shown`)
  if (lines.length === 0) lines.push('- no tool calls yet')
  return lines
}

/** The running comment's agent part. */
export function renderProgress(p: AgentProgress): string[] {
  const lines = [
    '',
    `**Agent steps** (updated ${inlineText(p.updatedAt)}, ${p.totalTokens.toLocaleString('en')} tokens so far)`,
    '',
  ]
  lines.push(...stepLines(p.steps, p.earlier))
  if (p.waitingFor) lines.push('', `Waiting for a sovereign: ${inlineText(p.waitingFor)}`)
  if (p.message) lines.push('', `Last message from the agent: ${inlineText(p.message)}`)
  return lines
}

/** The final comment's agent sections (after the signed output, before the notes). */
export function renderSummary(a: AgentSummary): string[] {
  const lines = ['', STEPS_TITLE, '']
  lines.push(...stepLines(a.steps, a.earlier))
  if (a.pullRequest) lines.push(`- pull request: #${a.pullRequest.number} ${codeSpan(a.pullRequest.url)}`)
  if (a.branch) lines.push(`- work kept on branch ${codeSpan(a.branch)}`)
  for (const p of a.proof ?? [])
    lines.push(
      `- proof ${codeSpan(p.name)}: ${p.timedOut ? 'timed out' : p.exitCode === 0 ? 'passed' : `failed (exit ${p.exitCode ?? 'signal'})`} in ${Math.round(p.durationMs)} ms`,
    )
  lines.push(
    `- ${a.totalTokens.toLocaleString('en')} tokens, ${(a.durationMs / 1000).toFixed(1)} s, ${codeSpan(a.backend)}${a.model ? ` ${codeSpan(a.model)}` : ''}`,
  )
  lines.push('', '<details>', TRANSCRIPT_SUMMARY, '', codeBlock(a.transcript, 'text'), '', '</details>')
  if (a.proofOutput !== undefined)
    lines.push('', '<details>', PROOF_OUTPUT_SUMMARY, '', codeBlock(a.proofOutput, 'text'), '', '</details>')
  return lines
}
