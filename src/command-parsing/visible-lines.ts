import MarkdownIt from 'markdown-it'
import type { MarkdownIt as Md, StateBlock, StateInline, Token } from 'markdown-it'
import { HtmlVisibility } from './html-visibility.js'

/** One line of a comment that Markdown would render as ordinary text, with hidden parts removed. */
export interface VisibleLine {
  /** 1-based line number in the original body. */
  line: number
  /** The original line, without its line ending. */
  raw: string
  /**
   * The line's Markdown text without its container markers (list indent, the first line's leading
   * spaces) and with hidden parts removed: code spans, inline HTML and what it hides, images, link
   * destinations and titles (what a command's arguments come from).
   */
  text: string
}

/** A stretch of a paragraph's text that a reader does not see; `html` is raw HTML to follow. */
interface Cut {
  start: number
  end: number
  html?: string
}

/** Where the inline rules record the cuts of the paragraph being read. */
interface Recorder {
  src: string
  cuts: Cut[]
}

type InlineRule = (state: StateInline, silent: boolean) => boolean

/**
 * Gitea's block math (its goldmark extension): a line starting with `$$` or `\[` opens a block
 * that ends on the same line when the closer follows there, else at a line of two or more `$`
 * (or `\]`) and nothing else, or at the end of the container. It may interrupt a paragraph.
 */
function mathBlock(state: StateBlock, startLine: number, endLine: number, silent: boolean): boolean {
  if (state.sCount[startLine]! - state.blkIndent >= 4) return false
  const start = state.bMarks[startLine]! + state.tShift[startLine]!
  const max = state.eMarks[startLine]!
  const src = state.src
  if (start + 2 > max) return false
  const dollars = src.startsWith('$$', start)
  if (!dollars && !src.startsWith('\\[', start)) return false
  if (silent) return true
  const closer = dollars ? '$$' : '\\]'
  let next = startLine
  let closed = src.slice(start + 2, max).includes(closer)
  while (!closed) {
    next++
    if (next >= endLine) break
    const pos = state.bMarks[next]! + state.tShift[next]!
    const lineMax = state.eMarks[next]!
    // A non-blank line indented less than the container ends the container, and the block with it.
    if (pos < lineMax && state.sCount[next]! < state.blkIndent) break
    if (state.sCount[next]! - state.blkIndent >= 4) continue
    const line = src.slice(pos, lineMax).trimEnd()
    closed = dollars ? line.length >= 2 && /^\$+$/.test(line) : line === '\\]'
  }
  state.line = closed ? next + 1 : next
  const token = state.push('math_block', 'math', 0)
  token.block = true
  token.map = [startLine, state.line]
  return true
}

/** Wraps an inline rule so that what it consumes is recorded as hidden, `html` for `html_inline`. */
function hiding(rule: InlineRule, what: 'code' | 'html' | 'image' | 'link'): InlineRule {
  return (state, silent) => {
    const start = state.pos
    const before = state.tokens.length
    if (!rule(state, silent)) return false
    const rec = state.env.uwVisible as Recorder | undefined
    // Image descriptions are parsed on their own source: only the paragraph's own pass records.
    if (silent || !rec || rec.src !== state.src) return true
    const end = state.pos
    if (what === 'code') {
      // Backticks without a closer stay text.
      if (state.tokens.length > before && state.tokens[state.tokens.length - 1]?.type === 'code_inline')
        rec.cuts.push({ start, end })
    } else if (what === 'html') {
      rec.cuts.push({ start, end, html: state.src.slice(start, end) })
    } else if (what === 'image') {
      rec.cuts.push({ start, end })
    } else {
      // A link's text is visible; its destination, title or reference label after `]` are not.
      const labelEnd = state.md.helpers.parseLinkLabel(state, start, true)
      if (labelEnd !== -1) rec.cuts.push({ start: labelEnd, end })
    }
    return true
  }
}

/**
 * `\` before ASCII punctuation makes it literal (it cannot open code, a link or HTML). markdown-it's
 * own rule makes a token for each such escape; this one keeps the pair as plain text, which is all
 * we need and keeps a megabyte of `\"` fast. Other backslashes go on to markdown-it's rule.
 */
const escapedPunctuation: InlineRule = (state, silent) => {
  const src = state.src
  if (src.charCodeAt(state.pos) !== 0x5c || state.pos + 1 >= state.posMax) return false
  if (!state.md.utils.isMdAsciiPunct(src.charCodeAt(state.pos + 1))) return false
  if (!silent) state.pending += src.slice(state.pos, state.pos + 2)
  state.pos += 2
  return true
}

function createParser(): Md {
  // CommonMark with raw HTML recognised (Gitea renders it, then sanitises), without the slow and
  // irrelevant extras: no typographer, no linkify, no entities or emphasis (they never hide text).
  const md = new MarkdownIt('commonmark', { html: true })
  md.block.ruler.before('fence', 'math_block', mathBlock, {
    alt: ['paragraph', 'reference', 'blockquote', 'list'],
  })
  md.core.ruler.enableOnly(['normalize', 'block'])
  md.inline.ruler.enableOnly([
    'text',
    'newline',
    'escape',
    'backticks',
    'link',
    'image',
    'autolink',
    'html_inline',
  ])
  // The post-processing rules only pair emphasis delimiters and merge text tokens: not needed.
  md.inline.ruler2.enableOnly([])
  md.inline.ruler.before('escape', 'escaped_punctuation', escapedPunctuation)
  // markdown-it's own rule for `name`, found through the public API.
  const original = (name: string) => {
    const probe = new MarkdownIt('commonmark')
    probe.inline.ruler.enableOnly([name])
    return probe.inline.ruler.getRules('')[0] as InlineRule
  }
  md.inline.ruler.at('backticks', hiding(original('backticks'), 'code'))
  md.inline.ruler.at('html_inline', hiding(original('html_inline'), 'html'))
  md.inline.ruler.at('image', hiding(original('image'), 'image'))
  md.inline.ruler.at('link', hiding(original('link'), 'link'))
  return md
}

const md = createParser()
const maxNesting = md.options.maxNesting ?? 20

/**
 * Whether a line inside a block quote is quoted (it has its own `>`, after any list markers),
 * rather than a lazy continuation line the author wrote without one.
 */
function quotedLine(raw: string): boolean {
  let i = 0
  for (;;) {
    while (raw[i] === ' ' || raw[i] === '\t') i++
    if (raw[i] === '>') return true
    let j = i
    if (raw[j] === '-' || raw[j] === '+' || raw[j] === '*') j++
    else while (j < raw.length && j - i < 9 && raw[j]! >= '0' && raw[j]! <= '9') j++
    if (j > i && (raw[j] === '.' || raw[j] === ')') && raw[i] !== '-' && raw[i] !== '+' && raw[i] !== '*') j++
    if (j === i || (raw[j] !== ' ' && raw[j] !== '\t')) return false
    i = j
  }
}

/**
 * Splits one paragraph's inline text into its lines' visible text, following the raw HTML in it.
 * `hiddenAt[k]` says whether line k starts inside something hidden.
 */
function paragraphLines(content: string, html: HtmlVisibility): { text: string[]; hiddenAt: boolean[] } {
  const rec: Recorder = { src: content, cuts: [] }
  md.inline.parse(content, md, { uwVisible: rec }, [])
  const cuts = rec.cuts.sort((a, b) => a.start - b.start)
  const text: string[] = ['']
  const hiddenAt: boolean[] = [html.hides]
  // The next line break at or after the current position (one forward pass over the text).
  let nl = content.indexOf('\n')
  const nextBreak = (from: number) => {
    while (nl !== -1 && nl < from) nl = content.indexOf('\n', nl + 1)
    return nl
  }
  const keep = (from: number, to: number) => {
    while (from < to) {
      const br = nextBreak(from)
      const stop = br === -1 || br >= to ? to : br
      if (!html.hides) text[text.length - 1] += content.slice(from, stop)
      if (stop !== br) return
      text.push('')
      hiddenAt.push(html.hides)
      from = br + 1
    }
  }
  const skip = (from: number, to: number) => {
    for (let br = nextBreak(from); br !== -1 && br < to; br = nextBreak(br + 1)) {
      text.push('')
      hiddenAt.push(true)
    }
  }
  let pos = 0
  for (const cut of cuts) {
    if (cut.start < pos) continue
    keep(pos, cut.start)
    skip(cut.start, cut.end)
    if (cut.html !== undefined) html.feed(cut.html)
    pos = cut.end
  }
  keep(pos, content.length)
  return { text, hiddenAt }
}

/** Which body lines an `inline` token's text comes from (a setext heading's underline is not text). */
function firstLine(parent: Token | undefined): number | undefined {
  return parent?.map?.[0]
}

/**
 * The lines of a Markdown comment that render as ordinary text, found with a CommonMark parser
 * (markdown-it) plus Gitea's `$$` math blocks: the lines of paragraphs and headings, in list items
 * too. Not visible: fenced and indented code, math blocks, HTML blocks, block quotes (a lazy
 * continuation line the author wrote without `>` does count), and text inside HTML that hides it
 * (`<details>`, `<pre>`, `<script>`, `<style>`, `<textarea>`, comments...; see HtmlVisibility).
 * CRLF, CR and LF line endings are all accepted; a leading byte order mark is ignored. Never throws.
 *
 * `wanted`, when given, limits the answer to lines whose raw text it accepts; paragraphs without
 * such a line are then only read for HTML that hides what follows (the cheap path for commands).
 *
 * @example
 *   visibleLines('    /run x\n\n/help').map((l) => l.text) // ['/help']
 */
export function visibleLines(body: string, wanted?: (raw: string) => boolean): VisibleLine[] {
  const src = body.replace(/^\uFEFF/, '')
  const raws = src.split(/\r\n|\r|\n/)
  const tokens = md.parse(src, {})
  const html = new HtmlVisibility()
  const out: VisibleLine[] = []
  let quoteDepth = 0
  for (let t = 0; t < tokens.length && !html.hidesTheRest; t++) {
    const token = tokens[t] as Token
    // markdown-it drops what is nested deeper than maxNesting; HTML in it could hide what follows.
    if (token.nesting === 1 && token.level >= maxNesting - 1) break
    if (token.type === 'blockquote_open') quoteDepth++
    else if (token.type === 'blockquote_close') quoteDepth--
    else if (token.type === 'html_block') html.feed(token.content)
    if (token.type !== 'inline') continue
    const first = firstLine(tokens[t - 1])
    if (first === undefined) continue
    const lineCount = token.content.split('\n').length
    const shown = (k: number) => {
      const raw = raws[first + k] ?? ''
      return (quoteDepth === 0 || !quotedLine(raw)) && (!wanted || wanted(raw))
    }
    let any = false
    for (let k = 0; k < lineCount && !any; k++) any = shown(k)
    if (!any && !token.content.includes('<')) continue
    const { text, hiddenAt } = paragraphLines(token.content, html)
    for (let k = 0; k < text.length; k++) {
      if (hiddenAt[k] || !shown(k)) continue
      out.push({ line: first + k + 1, raw: raws[first + k] ?? '', text: text[k] as string })
    }
  }
  return out
}
