/**
 * The one place user or agent text enters a bot comment. Every renderer (acks, results, replies,
 * triage, help) goes through these, so text typed by someone else is always inert:
 *
 * - `inlineText` for prose: one line, every ASCII punctuation character backslash-escaped (no
 *   emphasis, links, headings, tables, fences or autolinks in angle brackets), `<` and `&` as
 *   entities (no HTML), control and bidirectional-override characters replaced, and `@name`,
 *   `#123` and `!123` broken with a WORD JOINER (U+2060) so Gitea neither pings nor links them.
 * - `codeSpan` for values (arguments, labels, branches, tool names, job ids): a code span its
 *   own backticks cannot close. Gitea renders no mentions or references inside code.
 * - `codeBlock` for multi-line text (tool output): a fence longer than any backtick run inside.
 * - `plainTitle` for issue titles, which are not Markdown but still link mentions and references.
 * - `mention` for a login the bot means to notify (the requester, a house's sovereigns): a valid
 *   Gitea login becomes `@login`; anything else is shown inert.
 */

/** Longest run of `ch` in `s`. */
function longestRun(s: string, ch: string): number {
  let best = 0
  let cur = 0
  for (const c of s) {
    cur = c === ch ? cur + 1 : 0
    if (cur > best) best = cur
  }
  return best
}

// C0/C1 controls (tab aside) and the bidirectional controls that can make text read differently
// from what it is (the "trojan source" characters).
// eslint-disable-next-line no-control-regex
const UNSAFE_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

/** One line: any run of line breaks (and the blanks around them) becomes one space. */
function oneLine(text: string): string {
  return text.replace(/[ \t]*(?:\r\n|\r|\n|\u2028|\u2029)+[ \t]*/g, ' ')
}

/** The WORD JOINER put between `@`/`#`/`!` and what follows, so no mention or reference forms. */
export const WORD_JOINER = '\u2060'

/**
 * Plain text for the middle of a Markdown line, rendered exactly as written and never as
 * Markdown, HTML, a mention or an issue reference.
 *
 * @example
 *   inlineText('**Approved** by @timmy, see #1 <b>') // '\\*\\*Approved\\*\\* by @⁠timmy, see #⁠1 &lt;b\\>'
 */
export function inlineText(text: string): string {
  return oneLine(text)
    .replace(UNSAFE_CHARS, '\ufffd')
    .replace(/[!-/:-@[-`{-~]/g, (c) => {
      if (c === '<') return '&lt;'
      if (c === '&') return '&amp;'
      return `\\${c}`
    })
    .replace(/\\([@#!])(?=[\p{L}\p{N}_])/gu, `\\$1${WORD_JOINER}`)
}

/**
 * Wraps text in an inline code span that its own backticks cannot close. Inline code also keeps
 * `@mentions` and `#refs` in quoted commands from pinging or linking anything.
 *
 * @example
 *   codeSpan('a `b`') // '`` a `b` ``'
 */
export function codeSpan(text: string): string {
  const flat = oneLine(text).replace(UNSAFE_CHARS, '\ufffd')
  if (flat.trim() === '') return '`\u00a0`'
  const ticks = '`'.repeat(longestRun(flat, '`') + 1)
  // CommonMark strips one space inside each end when both ends have one, so a span that starts
  // or ends with a backtick or a space gets one added: the text reads back as written.
  const pad = /^[` ]|[` ]$/.test(flat) || ticks.length > 1 ? ' ' : ''
  return `${ticks}${pad}${flat}${pad}${ticks}`
}

/**
 * A fenced code block whose fence is longer than any backtick run in the text, so no line of the
 * text can close it. The text comes back exactly from the lines between the fences.
 *
 * @example
 *   codeBlock('x', 'text') // '```text\nx\n```'
 */
export function codeBlock(text: string, info = ''): string {
  const fence = '`'.repeat(Math.max(3, longestRun(text, '`') + 1))
  return `${fence}${info}\n${text}\n${fence}`
}

/**
 * Text for an issue or pull request title, which Gitea shows as written but links `#123` and
 * `@login` in: one line, control and bidirectional characters replaced, `@`, `#`, `!` broken with
 * a WORD JOINER, and no backslashes (a title is not Markdown).
 *
 * @example
 *   plainTitle('Alert for @ops\n#1') // 'Alert for @⁠ops #⁠1'
 */
export function plainTitle(text: string): string {
  return oneLine(text)
    .replace(UNSAFE_CHARS, '\ufffd')
    .replace(/([@#!])(?=[\p{L}\p{N}_])/gu, `$1${WORD_JOINER}`)
    .trim()
}

/** What Gitea accepts as a user name (alphanumerics, `-`, `_`, `.`; no leading or trailing punctuation). */
const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/

/**
 * A login the bot means to mention: `@login` when it is a valid Gitea login, otherwise inert text.
 *
 * @example
 *   mention('timmy') // '@timmy'
 *   mention('x](http://evil)') // a code span, no link and no ping
 */
export function mention(login: string): string {
  return LOGIN.test(login) ? `@${login}` : codeSpan(`@${login}`)
}

/** Longest command line quoted back in a reply. */
const QUOTE_MAX = 200

/**
 * The command as a one-line Markdown quote, shortened if long, for replies about it.
 *
 * @example
 *   quoteCommand('/run git_push @bezalel') // '> `/run git_push @bezalel`'
 */
export function quoteCommand(raw: string): string {
  const short = raw.length > QUOTE_MAX ? `${raw.slice(0, QUOTE_MAX)}…` : raw
  return `> ${codeSpan(short)}`
}
