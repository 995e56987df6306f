/** One argument of a command, classified. Quoted text is never a flag, a house or a key. */
export type ArgToken =
  | { kind: 'positional'; value: string }
  | { kind: 'keyValue'; key: string; value: string }
  | { kind: 'house'; name: string }
  | { kind: 'flag'; name: string; value: string | undefined }

/** Flags that take the next word as their value when written without `=`. */
const VALUED_FLAGS = new Set(['mode'])

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r' }
const SPECIAL = new Set([' ', '\t', '"', "'", '='])

interface Word {
  text: string
  /** Index in `text` of the first `=` that was not inside quotes, or -1. */
  eq: number
  /** True when the first character was not quoted (so a leading `@` or `--` is syntax). */
  bareStart: boolean
  quoted: boolean
}

/**
 * Splits an argument string into words. Double and single quotes group text and accept
 * backslash escapes (`\"`, `\'`, `\\`, `\n`, `\t`); quotes may sit inside a word (`msg="a b"`).
 * Never throws: an unterminated quote is reported in `errors` and runs to the end.
 */
function splitWords(input: string): { words: Word[]; errors: string[] } {
  const words: Word[] = []
  const errors: string[] = []
  let current: Word | undefined
  let quote: '"' | "'" | undefined
  const word = (): Word => (current ??= { text: '', eq: -1, bareStart: !quote, quoted: false })
  for (let i = 0; i < input.length; i++) {
    const ch = input[i] as string
    if (quote) {
      if (ch === '\\' && i + 1 < input.length) {
        const next = input[++i] as string
        word().text += ESCAPES[next] ?? next
      } else if (ch === quote) {
        quote = undefined
      } else {
        // Plain quoted text up to the next quote or backslash, in one slice.
        let j = i + 1
        while (j < input.length && input[j] !== quote && input[j] !== '\\') j++
        word().text += input.slice(i, j)
        i = j - 1
      }
      continue
    }
    if (ch === ' ' || ch === '\t') {
      if (current) words.push(current)
      current = undefined
      continue
    }
    if (ch === '"' || ch === "'") {
      const w = word()
      if (w.text === '') w.bareStart = false
      w.quoted = true
      quote = ch
      continue
    }
    const w = word()
    if (ch === '=' && w.eq === -1) w.eq = w.text.length
    // Plain unquoted text up to the next separator, quote or `=`, in one slice.
    let j = i + 1
    while (j < input.length && !SPECIAL.has(input[j] as string)) j++
    w.text += input.slice(i, j)
    i = j - 1
  }
  if (quote) errors.push(`unterminated ${quote === '"' ? 'double' : 'single'} quote`)
  if (current) words.push(current)
  return { words, errors }
}

/**
 * Tokenises a command's argument string into positionals, `key=value` pairs, `@house` mentions and
 * `--flags` (`--mode <m>`, `--mode=m`, `--dry-run`). Linear time; never throws.
 *
 * @example
 *   tokenizeArgs('git_status path="a b" @bezalel --mode simple').tokens
 *   // [{kind:'positional',value:'git_status'}, {kind:'keyValue',key:'path',value:'a b'},
 *   //  {kind:'house',name:'bezalel'}, {kind:'flag',name:'mode',value:'simple'}]
 */
export function tokenizeArgs(input: string): { tokens: ArgToken[]; errors: string[] } {
  const { words, errors } = splitWords(input)
  const tokens: ArgToken[] = []
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as Word
    if (w.bareStart && w.text.startsWith('--') && w.text.length > 2) {
      const hasEq = w.eq !== -1
      const name = (hasEq ? w.text.slice(2, w.eq) : w.text.slice(2)).toLowerCase()
      let value = hasEq ? w.text.slice(w.eq + 1) : undefined
      if (value === undefined && VALUED_FLAGS.has(name)) {
        const next = words[i + 1]
        if (next && !(next.bareStart && (next.text.startsWith('--') || next.text.startsWith('@')))) {
          value = next.text
          i++
        }
      }
      tokens.push({ kind: 'flag', name, value })
      continue
    }
    if (w.bareStart && !w.quoted && w.text.startsWith('@') && NAME.test(w.text.slice(1))) {
      tokens.push({ kind: 'house', name: w.text.slice(1).toLowerCase() })
      continue
    }
    if (w.bareStart && w.eq > 0 && KEY.test(w.text.slice(0, w.eq))) {
      tokens.push({ kind: 'keyValue', key: w.text.slice(0, w.eq), value: w.text.slice(w.eq + 1) })
      continue
    }
    tokens.push({ kind: 'positional', value: w.text })
  }
  return { tokens, errors }
}
