import MarkdownIt from 'markdown-it'

// Characters a reader does not see but a model reads: controls (except newline and tab), format
// characters (zero-width, bidi controls, soft hyphen, Unicode tags U+E0000..E007F), private-use,
// unassigned and lone surrogates, and Unicode's default-ignorable code points (variation selectors,
// used to smuggle bytes after an emoji, the combining grapheme joiner, Hangul and Khmer fillers),
// plus the blank braille pattern.
const HIDDEN = String.raw`(?![\n\t])[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\p{Default_Ignorable_Code_Point}\u2800]`
const HIDDEN_RE = new RegExp(HIDDEN, 'gu')
const ONLY_HIDDEN = new RegExp(`^(?:${HIDDEN})+$`, 'u')

const utils = new MarkdownIt().utils
const ENTITY = /&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});/g

/**
 * Removes characters a reader does not see: the format and control characters (but `\n` and
 * `\t`), bidi controls, Unicode tag characters, variation selectors and invisible fillers, and HTML
 * character references that stand for one of them (`&#8203;`, `&zwj;`, `&#xE0041;`). Line endings
 * become `\n`; line and paragraph separators too.
 *
 * @example
 *   stripHiddenCharacters('a\u200Bb\u{E0041}c&zwj;d') // 'abcd'
 */
export function stripHiddenCharacters(text: string): string {
  return text
    .replace(/\r\n?|[\u2028\u2029\u0085]/g, '\n')
    .replace(HIDDEN_RE, '')
    .replace(ENTITY, (ref) => {
      const decoded = utils.unescapeAll(ref)
      return decoded !== ref && ONLY_HIDDEN.test(decoded) ? '' : ref
    })
}

/**
 * Makes hidden characters visible instead of removing them (`<U+202E>`), for text whose every
 * byte matters, such as a diff under review, where a bidi control is the attack to see.
 *
 * @example
 *   showHiddenCharacters('if (a\u202E) {') // 'if (a<U+202E>) {'
 */
export function showHiddenCharacters(text: string): string {
  return text.replace(
    HIDDEN_RE,
    (c) => `<U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}>`,
  )
}
