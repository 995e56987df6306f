import type { KeyObject } from 'node:crypto'
import { sha256Hex } from '../provenance/canonical-json.js'
import { DsseEnvelope, verifyEnvelope } from '../provenance/dsse.js'
import { ExecutionStatement } from '../provenance/statement.js'
import { codeBlock, codeSpan, inlineText, mention } from '../commands-core/markdown.js'
import {
  ackHeading,
  cutNote,
  DSSE_CLOSE,
  DSSE_OPEN,
  jobLineStart,
  NOTES_TITLE,
  OUTPUT_OPEN,
  outputSummary,
  PROVENANCE_TITLE,
  provenanceLines,
} from './render.js'
import { PROOF_OUTPUT_SUMMARY, STEPS_TITLE, TRANSCRIPT_SUMMARY } from './agent-steps.js'

/** A result comment as the bot lays it out (see `renderAck`), read back line by line. */
export interface ResultComment {
  marker: { jobId: string; state: string }
  heading: string
  jobLine: string
  /** The raw `Reason: …` line (not signed), if any. */
  reason: string | undefined
  output: { text: string; summary: string; cutNote: string | undefined }
  /** The lines of an agent job's steps section (unsigned), when it has one. */
  steps: string[]
  /** Raw note lines (not signed). */
  notes: string[]
  /** Raw lines of the provenance list. */
  provenance: string[]
  /** The bot's envelope: the one block at the end of the comment. */
  envelope: DsseEnvelope
}

/** Why a comment does not show what its statement signs: the field, and what differs. */
export interface CommentMismatch {
  ok: false
  field: string
  problem: string
}

const MARKER = /^<!-- uni-wizard:ack job=(\S+) state=(\S+) -->$/
const KEY_MARKER = /^<!-- uw:key=[^>]* -->$/
const ENVELOPE_SUMMARY =
  '<summary>Signed provenance (DSSE envelope, check with <code>uni-wizard verify</code>)</summary>'

/** Splits a comment into lines; a comment whose every line ends in CRLF (a Windows copy) is read as LF. */
function linesOf(body: string): string[] {
  const lines = body.split('\n')
  const crlf = lines.length > 1 && lines.slice(0, -1).every((l) => l.endsWith('\r'))
  return crlf ? lines.map((l) => l.replace(/\r$/, '')) : lines
}

class Layout extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(problem)
  }
}

/** A cursor over the comment's lines that fails with the line number when the layout differs. */
class Lines {
  i = 0
  constructor(readonly lines: string[]) {}
  peek(k = 0): string | undefined {
    return this.lines[this.i + k]
  }
  expect(what: string, test: (l: string) => boolean, field = 'layout'): string {
    const line = this.lines[this.i]
    if (line === undefined || !test(line))
      throw new Layout(
        field,
        `line ${this.i + 1}: expected ${what}, found ${line === undefined ? 'the end of the comment' : JSON.stringify(line.slice(0, 80))}`,
      )
    this.i++
    return line
  }
  exact(text: string, field = 'layout'): string {
    return this.expect(JSON.stringify(text.slice(0, 60)), (l) => l === text, field)
  }
}

/**
 * The fenced block opening at the cursor (fence `fenceRe`, info string `info`), its text, the
 * cursor after its closing fence. The block must be exactly what `codeBlock(text, info)` writes:
 * its fence one backtick longer than the longest run inside (at least three). A shorter fence is
 * an edit: CommonMark closes a fence on any line of at least as many backticks (indented up to
 * three spaces, trailing blanks allowed), so part of the signed text would render as live
 * Markdown while the text between the lines still hashed the same.
 */
function fenced(c: Lines, fenceRe: RegExp, info: string, what: string, field = 'layout'): string {
  const openAt = c.i
  const open = c.expect(what, (l) => fenceRe.test(l), field)
  const fence = (fenceRe.exec(open) as RegExpExecArray)[1] as string
  const start = c.i
  // The renderer's fence is longer than any backtick run inside, so the first line that is the
  // fence alone closes it.
  const end = c.lines.findIndex((l, j) => j >= start && l === fence)
  if (end === -1) throw new Layout(field, `line ${start}: ${what} is never closed`)
  const text = c.lines.slice(start, end).join('\n')
  const canonical = codeBlock(text, info)
  if (canonical !== c.lines.slice(openAt, end + 1).join('\n'))
    throw new Layout(
      field,
      `line ${openAt + 1}: ${what} is fenced with ${fence.length} backticks, the bot fences this text with ${(canonical.split('\n')[0] as string).length - info.length}: the block was edited`,
    )
  c.i = end + 1
  return text
}

/** Undoes `inlineText`'s escapes (one candidate text the line could have been rendered from). */
function uninline(s: string): string {
  return s.replace(/\\([!-/:-@[-`{-~])\u2060?|&lt;|&amp;/g, (m, ch: string | undefined) =>
    m === '&lt;' ? '<' : m === '&amp;' ? '&' : (ch as string),
  )
}

/**
 * Whether `s` is exactly what `inlineText` makes of some text: inert, with no live Markdown, HTML,
 * mention or reference in it. Unsigned lines (the reason, the notes, the job line's explanation)
 * are still the bot's lines; an edit that makes them say something in Markdown is refused.
 */
function isInertText(s: string): boolean {
  return inlineText(uninline(s)) === s
}

/** Whether `s` is exactly `mention(login)` for some login. */
function isMention(s: string): boolean {
  if (s.startsWith('@')) return mention(s.slice(1)) === s
  const m = /^(`+) ?(@.*?) ?\1$/.exec(s)
  return m !== null && mention((m[2] as string).slice(1)) === s
}

/**
 * Whether what follows the job line's signed start is what the renderer writes there: ` · dry run`,
 * ` · run N` (`, first requested by @login`), ` · house chosen: <inert text>`, ` · prediction: <inert
 * text>`, in that order.
 */
function isJobLineTail(tail: string): boolean {
  const m =
    /^(?: · dry run)?(?: · run [1-9]\d*(?:, first requested by (\S+|`+ .*? `+))?)?(?: · house chosen: (.+?))?(?: · prediction: (.+))?$/.exec(
      tail,
    )
  if (!m) return false
  if (m[1] !== undefined && !isMention(m[1])) return false
  return (m[2] === undefined || isInertText(m[2])) && (m[3] === undefined || isInertText(m[3]))
}

function readEnvelope(c: Lines): DsseEnvelope {
  const f = 'envelope'
  c.exact('<details>', f)
  c.exact(ENVELOPE_SUMMARY, f)
  c.exact('', f)
  c.exact(DSSE_OPEN, f)
  const json = fenced(c, /^(`{3,})json$/, 'json', 'the envelope JSON block', f)
  c.exact(DSSE_CLOSE, f)
  c.exact('', f)
  c.exact('</details>', f)
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch {
    throw new Layout(f, 'the envelope block is not JSON')
  }
  const env = DsseEnvelope.safeParse(parsed)
  if (!env.success) throw new Layout(f, 'the envelope block is not a DSSE envelope')
  return env.data
}

/** `- …` lines up to the next blank line or the end. */
function listItems(c: Lines): string[] {
  const items: string[] = []
  for (let l = c.peek(); l?.startsWith('- '); l = c.peek()) {
    items.push(l)
    c.i++
  }
  return items
}

function readLayout(c: Lines): ResultComment {
  const m = MARKER.exec(c.expect('the ack marker of a uni-wizard result comment', (l) => MARKER.test(l)))
  const marker = { jobId: m?.[1] ?? '', state: m?.[2] ?? '' }
  const heading = c.expect('the heading', (l) => l.startsWith('### '))
  c.exact('')
  const jobLine = c.expect('the job line', (l) => l.startsWith('Job '))
  c.exact('')
  let reason: string | undefined
  if (c.peek()?.startsWith('Reason: ')) {
    reason = c.peek()
    c.i++
    c.exact('')
  }
  // An agent's answer is shown open; a tool's output folded.
  if (c.peek() === OUTPUT_OPEN) c.i++
  else c.exact('<details>', 'output')
  const summary = c.expect(
    'the output summary',
    (l) => /^<summary>Output \(.*\)<\/summary>$/.test(l),
    'output',
  )
  c.exact('', 'output')
  const text = fenced(c, /^(`{3,})text$/, 'text', 'the output block', 'output')
  c.exact('', 'output')
  let cut: string | undefined
  if (c.peek()?.startsWith('_Only the first ')) {
    cut = c.peek()
    c.i++
    c.exact('', 'output')
  }
  c.exact('</details>', 'output')
  let steps: string[] = []
  if (c.peek() === '' && c.peek(1) === STEPS_TITLE) {
    c.i += 2
    c.exact('', 'agent steps')
    steps = listItems(c)
    c.exact('', 'agent steps')
    c.exact('<details>', 'agent steps')
    c.exact(TRANSCRIPT_SUMMARY, 'agent steps')
    c.exact('', 'agent steps')
    fenced(c, /^(`{3,})text$/, 'text', 'the transcript block', 'agent steps')
    c.exact('', 'agent steps')
    c.exact('</details>', 'agent steps')
    if (c.peek() === '' && c.peek(1) === '<details>' && c.peek(2) === PROOF_OUTPUT_SUMMARY) {
      c.i += 3
      c.exact('', 'agent steps')
      fenced(c, /^(`{3,})text$/, 'text', 'the proof output block', 'agent steps')
      c.exact('', 'agent steps')
      c.exact('</details>', 'agent steps')
    }
  }
  let notes: string[] = []
  if (c.peek() === '' && c.peek(1) === NOTES_TITLE) {
    c.i += 2
    c.exact('')
    notes = listItems(c)
  }
  let provenance: string[] = []
  if (c.peek() === '' && c.peek(1) === PROVENANCE_TITLE) {
    c.i += 2
    c.exact('')
    provenance = listItems(c)
  }
  if (!(c.peek() === '' && c.peek(1) === '<details>'))
    throw new Layout(
      'envelope',
      `line ${c.i + 1}: no signed envelope where the bot puts it (the end of the comment)`,
    )
  c.i++
  const envelope = readEnvelope(c)
  // Only the bot's hidden key marker may follow; another envelope after the bot's is not read.
  while (c.peek() !== undefined)
    c.expect('nothing after the envelope but the bot key marker', (l) => l === '' || KEY_MARKER.test(l))
  return {
    marker,
    heading,
    jobLine,
    reason,
    output: { text, summary, cutNote: cut },
    steps,
    notes,
    provenance,
    envelope,
  }
}

/**
 * Reads a result comment as the bot lays it out: the ack marker, heading, job line, optional
 * reason, the output block, optional notes, the provenance list and exactly one envelope block at
 * the end (only the bot's key marker may follow). Any other line, anywhere, fails: an envelope
 * pasted in by someone (before, after, or inside other text) is never the one read.
 *
 * @example
 *   const read = readResultComment(comment.body)
 *   if (read.ok) verifyEnvelope(read.comment.envelope, keys)
 */
export function readResultComment(body: string): { ok: true; comment: ResultComment } | CommentMismatch {
  const c = new Lines(linesOf(body))
  try {
    return { ok: true, comment: readLayout(c) }
  } catch (err) {
    if (!(err instanceof Layout)) throw err
    // A layout broken by a pasted envelope is named as the envelope, whatever line noticed it.
    const extra = c.lines.filter((l) => l === DSSE_OPEN).length > 1
    return {
      ok: false,
      field: extra ? 'envelope' : err.field,
      problem: extra ? `more than one envelope (${err.message})` : err.message,
    }
  }
}

function differs(field: string, shown: string, signed: string): CommentMismatch {
  return {
    ok: false,
    field,
    problem: `the comment shows ${JSON.stringify(shown)}, the statement signs ${JSON.stringify(signed)}`,
  }
}

/** Heading: status (icon and words), tool, house. */
function checkHeading(c: ResultComment, s: ExecutionStatement): CommentMismatch | undefined {
  const p = s.predicate
  if (c.marker.state !== p.status) return differs('status', c.marker.state, p.status)
  if (c.heading === ackHeading(p.tool, p.house, p.status)) return undefined
  const m = /^### (\S+) (.+) on house \*\*(.+)\*\*: (.+)$/.exec(c.heading)
  if (m && m[2] !== codeSpan(p.tool)) return differs('tool', m[2] ?? '', codeSpan(p.tool))
  if (m && m[3] !== inlineText(p.house)) return differs('house', m[3] ?? '', inlineText(p.house))
  return differs('status', c.heading, ackHeading(p.tool, p.house, p.status))
}

/** Job line: job id, requester, mode (what follows them is explanation, not signed). */
function checkJobLine(c: ResultComment, s: ExecutionStatement): CommentMismatch | undefined {
  const p = s.predicate
  if (p.jobId === undefined)
    return {
      ok: false,
      field: 'job id',
      problem: 'the statement signs no job id (it was signed before they were)',
    }
  if (c.marker.jobId !== p.jobId) return differs('job id', c.marker.jobId, p.jobId)
  const start = jobLineStart(p.jobId, p.requestedBy, p.mode, p.degraded)
  if (c.jobLine.startsWith(start)) {
    if (isJobLineTail(c.jobLine.slice(start.length))) return undefined
    return {
      ok: false,
      field: 'job line',
      problem: `what follows the signed facts of the job line is not what the bot writes there: ${JSON.stringify(c.jobLine.slice(start.length, start.length + 80))}`,
    }
  }
  const m = /^Job (.+?) · requested by (.+?) · mode (.+?)(?: · .*)?$/.exec(c.jobLine)
  if (!m || m[1] !== codeSpan(p.jobId)) return differs('job id', c.jobLine, start)
  if (m[2] !== mention(p.requestedBy)) return differs('requester', m[2] ?? '', mention(p.requestedBy))
  return differs('mode', m[3] ?? '', start.slice(start.indexOf(' · mode ') + ' · mode '.length))
}

/** Output: the digest of what is shown, against all of it or against the signed shown part. */
function checkOutput(c: ResultComment, s: ExecutionStatement): CommentMismatch | string | undefined {
  const signed = s.predicate.output
  const full = s.subject[0]?.digest.sha256 ?? ''
  const { text } = c.output
  const digest = sha256Hex(text)
  if (!signed) {
    if (c.output.cutNote !== undefined || digest !== full)
      return differs('output', `sha256:${digest}`, `sha256:${full}`)
    return undefined
  }
  const shown = signed.shown ?? { chars: signed.chars, sha256: full }
  if (text.length !== shown.chars || digest !== shown.sha256)
    return {
      ok: false,
      field: 'output',
      problem: `the output shown (${text.length} characters, sha256:${digest}) is not what the statement signs (${shown.chars} characters, sha256:${shown.sha256})`,
    }
  if (c.output.summary !== outputSummary(shown.chars, signed.chars))
    return differs('output', c.output.summary, outputSummary(shown.chars, signed.chars))
  const note = signed.shown ? cutNote(shown.chars, signed.chars) : undefined
  if (c.output.cutNote !== note) return differs('output', c.output.cutNote ?? '', note ?? '')
  return signed.shown
    ? `the comment shows only the first ${shown.chars} of ${signed.chars} characters of the output; those match their signed digest, and the signed digest of all of it is sha256:${full}`
    : undefined
}

function checkProvenance(c: ResultComment, s: ExecutionStatement): CommentMismatch | undefined {
  const expected = provenanceLines(s)
  for (let i = 0; i < Math.max(expected.length, c.provenance.length); i++) {
    const want = expected[i]
    const got = c.provenance[i]
    if (want === undefined) return differs('provenance', got ?? '', '')
    if (got !== want.line) return differs(want.field, got ?? '', want.line)
  }
  return undefined
}

/** The unsigned lines (reason, notes) must still be the bot's inert text. */
/** A code span as `codeSpan` writes it, in a steps line. */
const SPAN = /(`+) ?(.*?) ?\1(?!`)/g

/**
 * Whether a line of the agent steps section is one the bot writes (`stepLines`, `renderSummary`):
 * its code spans canonical, the rest one of the fixed shapes with inert text, so nothing live
 * (a heading, an image, a link, HTML) can be slipped into a signed comment's unsigned section.
 */
function isStepsLine(line: string): boolean {
  const spans: string[] = []
  const shape = line.replace(SPAN, (whole: string, _ticks: string, inner: string) => {
    spans.push(inner)
    return codeSpan(inner) === whole ? '\u0000' : '\u0001'
  })
  if (shape.includes('\u0001')) return false
  const S = '\u0000'
  const patterns = [
    new RegExp(`^- \\[[ x]\\] \\S{1,4} ${S}(?: ${S})?: (.+?)(?: \\(\\d+ ms\\))?$`),
    /^- … \d+ earlier step\(s\) not shown$/,
    /^- no tool calls yet$/,
    new RegExp(`^- pull request: #\\d+ ${S}$`),
    new RegExp(`^- work kept on branch ${S}$`),
    new RegExp(`^- proof ${S}: (?:passed|timed out|failed \\(exit (?:-?\\d+|signal)\\)) in \\d+ ms$`),
    new RegExp(`^- [\\d,]+ tokens, \\d+\\.\\d s, ${S}(?: ${S})?$`),
  ]
  for (const p of patterns) {
    const m = p.exec(shape)
    if (m) return m[1] === undefined || isInertText(m[1])
  }
  return false
}

/** `isStepsLine`, for its tests. */
export const isStepsLineForTest = isStepsLine

function checkUnsigned(c: ResultComment): CommentMismatch | undefined {
  if (c.reason !== undefined && !isInertText(c.reason.slice('Reason: '.length)))
    return {
      ok: false,
      field: 'reason',
      problem: `the reason line holds Markdown or HTML the bot never writes: ${JSON.stringify(c.reason.slice(0, 80))}`,
    }
  const step = c.steps.find((l) => !isStepsLine(l))
  if (step !== undefined)
    return {
      ok: false,
      field: 'agent steps',
      problem: `a line of the agent steps is not one the bot writes: ${JSON.stringify(step.slice(0, 80))}`,
    }
  const note = c.notes.find((n) => !isInertText(n.slice(2)))
  if (note !== undefined)
    return {
      ok: false,
      field: 'notes',
      problem: `a note holds Markdown or HTML the bot never writes: ${JSON.stringify(note.slice(0, 80))}`,
    }
  return undefined
}

/**
 * Compares what a result comment shows with the statement its envelope signs (the envelope must
 * already be verified): job id, status, tool, house, requester and mode in the heading and job
 * line, the output (its digest, recomputed; a cut output against the signed digest of the part
 * shown), and every line of the provenance list. The first field that differs fails the check.
 * The reason line and the notes are explanation, not signed (the result says so), but they must
 * still be inert text as the renderer writes it: no live Markdown or HTML. Every code block must
 * carry the exact fence the renderer gives its text.
 *
 * @example
 *   const r = checkResultComment(read.comment, statement)
 *   if (!r.ok) console.error(`${r.field}: ${r.problem}`)
 */
export function checkResultComment(
  c: ResultComment,
  s: ExecutionStatement,
): { ok: true; remarks: string[] } | CommentMismatch {
  const headingOrJob = checkJobLine(c, s) ?? checkHeading(c, s)
  if (headingOrJob) return headingOrJob
  const output = checkOutput(c, s)
  if (typeof output === 'object') return output
  if (c.provenance.length === 0)
    return { ok: false, field: 'provenance', problem: 'the comment shows no provenance list' }
  const prov = checkProvenance(c, s)
  if (prov) return prov
  const unsigned = checkUnsigned(c)
  if (unsigned) return unsigned
  const remarks: string[] = []
  if (output) remarks.push(output)
  if (c.reason !== undefined || c.notes.length > 0)
    remarks.push('the reason and notes in the comment are explanation and are not signed')
  return { ok: true, remarks }
}

/** A result comment that shows what its verified statement signs. */
export interface VerifiedComment {
  ok: true
  keyid: string
  statement: ExecutionStatement
  /** The signed payload as JSON, all of it (fields this version does not know included). */
  payload: unknown
  envelope: DsseEnvelope
  remarks: string[]
}

/**
 * Everything `uni-wizard verify` does with a comment, as one pure function: read the layout and
 * its one envelope, verify the signature with `publicKeys`, parse the statement, and check what
 * the comment shows against it. Fails naming a field (`envelope`, `signature`, `statement`,
 * `job id`, `status`, `tool`, `house`, `requester`, `mode`, `output`, a provenance line...).
 *
 * @example
 *   const r = verifyResultComment(comment.body, [bezalelPublicKey])
 *   if (!r.ok) console.error(`invalid: ${r.field}: ${r.problem}`)
 */
export function verifyResultComment(
  body: string,
  publicKeys: readonly KeyObject[],
): VerifiedComment | CommentMismatch {
  const read = readResultComment(body)
  if (!read.ok) return read
  const { envelope } = read.comment
  const v = verifyEnvelope(envelope, publicKeys)
  if (!v.valid) return { ok: false, field: 'signature', problem: v.reason }
  let payload: unknown
  try {
    payload = JSON.parse(v.payload.toString('utf8'))
  } catch {
    return { ok: false, field: 'statement', problem: 'the signed payload is not JSON' }
  }
  const statement = ExecutionStatement.safeParse(payload)
  if (!statement.success)
    return {
      ok: false,
      field: 'statement',
      problem: 'the signed payload is not a uni-wizard execution statement',
    }
  const shown = checkResultComment(read.comment, statement.data)
  if (!shown.ok) return shown
  return { ok: true, keyid: v.keyid, statement: statement.data, payload, envelope, remarks: shown.remarks }
}
