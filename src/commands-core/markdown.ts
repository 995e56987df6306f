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

/**
 * Wraps text in an inline code span that its own backticks cannot close. Inline code also keeps
 * `@mentions` in quoted commands from pinging anyone.
 *
 * @example
 *   codeSpan('a `b`') // '`` a `b` ``'
 */
export function codeSpan(text: string): string {
  const oneLine = text.replace(/[\r\n]+/g, ' ')
  const ticks = '`'.repeat(longestRun(oneLine, '`') + 1)
  const pad = oneLine.startsWith('`') || oneLine.endsWith('`') || ticks.length > 1 ? ' ' : ''
  return `${ticks}${pad}${oneLine}${pad}${ticks}`
}

/**
 * A fenced code block whose fence is longer than any backtick run in the text.
 *
 * @example
 *   codeBlock('x', 'text') // '```text\nx\n```'
 */
export function codeBlock(text: string, info = ''): string {
  const fence = '`'.repeat(Math.max(3, longestRun(text, '`') + 1))
  return `${fence}${info}\n${text}\n${fence}`
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
