/** One line of a comment that Markdown would render as ordinary text, with hidden parts removed. */
export interface VisibleLine {
  /** 1-based line number in the original body. */
  line: number
  /** The original line, without its line ending. */
  raw: string
  /** The line with inline code spans and HTML comments removed (what a command's arguments come from). */
  text: string
}

interface Fence {
  char: '`' | '~'
  length: number
}

/** Length of the run of `ch` starting at `from`. */
function runLength(s: string, from: number, ch: string): number {
  let i = from
  while (i < s.length && s[i] === ch) i++
  return i - from
}

/** Index of the first character that is not a space or tab. */
function indentOf(s: string): number {
  let i = 0
  while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++
  return i
}

/**
 * A fence opener: three or more backticks or tildes. A backtick fence's info string may not hold a
 * backtick (CommonMark), otherwise the line is inline code, not a fence.
 */
function fenceOpener(s: string, at: number): Fence | undefined {
  const ch = s[at]
  if (ch !== '`' && ch !== '~') return undefined
  const length = runLength(s, at, ch)
  if (length < 3) return undefined
  if (ch === '`' && s.indexOf('`', at + length) !== -1) return undefined
  return { char: ch, length }
}

/** A closing fence: the same character, at least as long as the opener, then only whitespace. */
function closesFence(s: string, at: number, fence: Fence): boolean {
  if (s[at] !== fence.char) return false
  const length = runLength(s, at, fence.char)
  if (length < fence.length) return false
  for (let i = at + length; i < s.length; i++) if (s[i] !== ' ' && s[i] !== '\t') return false
  return true
}

/**
 * Removes inline code spans and HTML comments from one line. Returns the kept text and whether an
 * HTML comment was left open at the end of the line.
 *
 * Linear time: backtick runs are indexed once by length, and each opener finds its closer through a
 * cursor per length that only moves forward (the CommonMark reference approach), so a line made of
 * many runs of different lengths is not quadratic.
 */
function stripInline(s: string): { text: string; openComment: boolean } {
  // Positions of backtick runs, grouped by run length, in order.
  const runsByLength = new Map<number, number[]>()
  for (let i = 0; i < s.length;) {
    if (s[i] === '`') {
      const n = runLength(s, i, '`')
      let list = runsByLength.get(n)
      if (!list) runsByLength.set(n, (list = []))
      list.push(i)
      i += n
    } else i++
  }
  const cursor = new Map<number, number>()
  const nextRun = (length: number, after: number): number => {
    const list = runsByLength.get(length)
    if (!list) return -1
    let c = cursor.get(length) ?? 0
    while (c < list.length && (list[c] as number) <= after) c++
    cursor.set(length, c)
    return c < list.length ? (list[c] as number) : -1
  }

  let out = ''
  let i = 0
  while (i < s.length) {
    const ch = s[i]
    if (ch === '`') {
      const n = runLength(s, i, '`')
      const close = nextRun(n, i)
      if (close === -1) {
        // No closer of the same length: the backticks are literal text.
        out += s.slice(i, i + n)
        i += n
      } else {
        i = close + n
      }
      continue
    }
    if (ch === '<' && s.startsWith('<!--', i)) {
      const end = s.indexOf('-->', i + 4)
      if (end === -1) return { text: out, openComment: true }
      i = end + 3
      continue
    }
    // Copy the plain run up to the next character that could start code or a comment in one slice.
    let j = i + 1
    while (j < s.length && s[j] !== '`' && s[j] !== '<') j++
    out += s.slice(i, j)
    i = j
  }
  return { text: out, openComment: false }
}

/**
 * Splits a Markdown body into the lines that render as ordinary text: lines inside fenced code
 * (``` or ~~~, any length, an unterminated fence runs to the end), `>` quotes and `<!-- -->`
 * comments (which may span lines) are dropped; inline code and inline comments are removed from
 * the lines that remain. CRLF, CR and LF line endings are all accepted. Never throws; linear in
 * the body's length.
 *
 * @example
 *   visibleLines('```\n/run x\n```\n/help').map((l) => l.text) // ['/help']
 */
export function visibleLines(body: string): VisibleLine[] {
  const lines = body.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/)
  const out: VisibleLine[] = []
  let fence: Fence | undefined
  let inComment = false
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n] as string
    const at = indentOf(raw)
    if (fence) {
      if (closesFence(raw, at, fence)) fence = undefined
      continue
    }
    if (inComment) {
      // The line that closes a block comment belongs to the comment, remainder included (CommonMark).
      if (raw.indexOf('-->') !== -1) inComment = false
      continue
    }
    const opener = fenceOpener(raw, at)
    if (opener) {
      fence = opener
      continue
    }
    if (raw[at] === '>') continue
    const { text, openComment } = stripInline(raw)
    if (openComment) inComment = true
    out.push({ line: n + 1, raw, text })
  }
  return out
}
