import { tokenizeArgs, type ArgToken } from './tokenize-args.js'
import { visibleLines } from './visible-lines.js'

/**
 * A command's arguments grouped by kind: what every command's zod schema parses. Repeated keys keep
 * the last value; repeated flags too.
 */
export interface CommandInput {
  positionals: string[]
  named: Record<string, string>
  houses: string[]
  /** `--mode` value as written, or undefined. */
  mode: string | undefined
  dryRun: boolean
  /** Every other `--flag` (value `true` when written without one). */
  flags: Record<string, string | true>
  /** Problems found while tokenising (an unterminated quote); a schema should refuse when non-empty. */
  errors: string[]
}

/** One slash command found in a comment. */
export interface ParsedCommand {
  /** Lower-cased command name without the slash, e.g. `run`. */
  name: string
  /** The whole original line, for quoting back in replies. */
  raw: string
  /** 1-based line number in the body. */
  line: number
  /** Position among the commands of this comment, from 0 (part of the job's idempotency key). */
  index: number
  tokens: ArgToken[]
  input: CommandInput
}

/** `/name` followed by whitespace or the end of the line. Bounded, so never backtracks far. */
const HEAD = /^[ \t]*\/([A-Za-z][A-Za-z0-9_-]{0,31})(?=[ \t]|$)/

/** Some line could start a command: the cheap test before reading the Markdown. */
const MAYBE = /^\uFEFF?[ \t]*\/[A-Za-z]/m

function groupTokens(tokens: ArgToken[], errors: string[]): CommandInput {
  const input: CommandInput = {
    positionals: [],
    named: {},
    houses: [],
    mode: undefined,
    dryRun: false,
    flags: {},
    errors,
  }
  for (const t of tokens) {
    if (t.kind === 'positional') input.positionals.push(t.value)
    else if (t.kind === 'keyValue') input.named[t.key] = t.value
    else if (t.kind === 'house') input.houses.push(t.name)
    else if (t.name === 'mode') input.mode = t.value ?? ''
    else if (t.name === 'dry-run' && t.value === undefined) input.dryRun = true
    else input.flags[t.name] = t.value ?? true
  }
  return input
}

/**
 * Finds the slash commands in a comment body. A command starts a line of visible Markdown text
 * (after up to three spaces of indent) with an ASCII `/`; look-alike slashes (`∕`, `⁄`, `／`) are
 * not commands. What a reader does not see as ordinary text is ignored (visibleLines: code spans,
 * fenced and indented code, `$$` math, quotes, HTML comments, raw HTML blocks, and text inside
 * `<details>`, `<pre>`, `<script>`, `<style>`, `<textarea>`...). Never throws.
 *
 * @example
 *   parseCommands('Please\n/run git_status @bezalel --dry-run')
 *   // [{ name: 'run', raw: '/run git_status @bezalel --dry-run', line: 2, index: 0,
 *   //    input: { positionals: ['git_status'], houses: ['bezalel'], dryRun: true, ... }, ... }]
 */
export function parseCommands(body: string): ParsedCommand[] {
  if (typeof body !== 'string' || !MAYBE.test(body)) return []
  const commands: ParsedCommand[] = []
  for (const v of visibleLines(body, (raw) => HEAD.test(raw))) {
    // The command must start the original line: text hidden by an inline comment or code span
    // before it means it was not at the start of what the author wrote.
    const head = HEAD.exec(v.raw)
    if (!head) continue
    const name = (head[1] as string).toLowerCase()
    const visibleHead = HEAD.exec(v.text)
    if (!visibleHead || (visibleHead[1] as string).toLowerCase() !== name) continue
    const { tokens, errors } = tokenizeArgs(v.text.slice(visibleHead[0].length))
    commands.push({
      name,
      raw: v.raw.trim(),
      line: v.line,
      index: commands.length,
      tokens,
      input: groupTokens(tokens, errors),
    })
  }
  return commands
}
