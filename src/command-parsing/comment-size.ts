/** How much of a too-long body the cheap look for a leading command reads. */
const LEAD_CHARS = 4096

/**
 * The first non-blank line, when it is `/name` (up to three spaces of indent, then whitespace or
 * the end of the line). Anchored at the start, and run on at most LEAD_CHARS characters.
 */
const LEADING = /^\uFEFF?(?:[ \t]*(?:\r\n|\r|\n))*[ \t]{0,3}\/([A-Za-z][A-Za-z0-9_-]{0,31})(?=[ \t\r\n]|$)/

/**
 * The size of a comment body in UTF-8 bytes, as Gitea stores and sends it.
 *
 * @example
 *   utf8Bytes('héllo') // 6
 */
export function utf8Bytes(body: string): number {
  return Buffer.byteLength(body, 'utf8')
}

/**
 * The lower-cased name of the command a body starts with, found without reading it as Markdown:
 * only its first non-blank line counts, so a stray `/path` deep in a long text is not a command.
 * For deciding whether a body too long to parse deserves a reply; never a command to run.
 *
 * @example
 *   leadingCommandName('\n/run git_status @bezalel\n' + 'x'.repeat(100_000)) // 'run'
 *   leadingCommandName('Logs:\n/usr/bin/env ...') // undefined
 */
export function leadingCommandName(body: string): string | undefined {
  return LEADING.exec(body.slice(0, LEAD_CHARS))?.[1]?.toLowerCase()
}
