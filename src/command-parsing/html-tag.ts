// Reading raw HTML the way a browser does, for the two walks that need it: which text of a comment
// a reader sees (command parsing, html-visibility.ts) and which text reaches a prompt
// (src/agents/prompt/html-text.ts). They differ on what hides text, not on how a tag is read.

/** Elements without content: they open nothing. */
export const VOID_ELEMENTS: ReadonlySet<string> = new Set([
  'area',
  'base',
  'br',
  'col',
  'embed',
  'hr',
  'image',
  'img',
  'input',
  'keygen',
  'link',
  'meta',
  'param',
  'source',
  'track',
  'wbr',
])

/** Elements whose content the browser reads as text up to their own end tag (tags inside are not tags). */
export const RAW_TEXT_ELEMENTS: ReadonlySet<string> = new Set([
  'iframe',
  'noembed',
  'noframes',
  'noscript',
  'script',
  'style',
  'textarea',
  'title',
  'xmp',
])

export const isSpace = (c: string | undefined): boolean =>
  c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f'
export const isLetter = (c: string | undefined): boolean =>
  c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))

/** A tag as read: its lower-cased name, whether it ends an element, its attributes (first wins). */
export interface HtmlTag {
  name: string
  end: boolean
  /** Lower-cased attribute names and their values (`''` without one). */
  attrs: Map<string, string>
  /** Index just after the tag's `>`, or -1 when the input ends inside the tag. */
  next: number
}

/**
 * Reads a start or end tag the way a browser does (more leniently than CommonMark): the name runs
 * to whitespace, `/` or `>`, and attribute values may be quoted with `"` or `'` (a `>` inside
 * quotes does not end the tag). `next` is -1 when the input ends inside it.
 *
 * @example
 *   readTag('<span hidden>x', 0) // { name: 'span', end: false, attrs: Map { 'hidden' => '' }, next: 13 }
 */
export function readTag(s: string, at: number): HtmlTag {
  const end = s[at + 1] === '/'
  let i = at + (end ? 2 : 1)
  const nameStart = i
  while (i < s.length && !isSpace(s[i]) && s[i] !== '/' && s[i] !== '>') i++
  const name = s.slice(nameStart, i).toLowerCase()
  const attrs = new Map<string, string>()
  for (;;) {
    while (i < s.length && (isSpace(s[i]) || s[i] === '/')) i++
    if (i >= s.length) return { name, end, attrs, next: -1 }
    if (s[i] === '>') return { name, end, attrs, next: i + 1 }
    const attrStart = i
    if (s[i] === '=') i++
    while (i < s.length && !isSpace(s[i]) && s[i] !== '/' && s[i] !== '>' && s[i] !== '=') i++
    const attr = s.slice(attrStart, i).toLowerCase()
    while (i < s.length && isSpace(s[i])) i++
    let value = ''
    if (s[i] === '=') {
      i++
      while (i < s.length && isSpace(s[i])) i++
      const quote = s[i]
      if (quote === '"' || quote === "'") {
        const close = s.indexOf(quote, i + 1)
        if (close === -1) return { name, end, attrs, next: -1 }
        value = s.slice(i + 1, close)
        i = close + 1
      } else {
        const start = i
        while (i < s.length && !isSpace(s[i]) && s[i] !== '>') i++
        value = s.slice(start, i)
      }
    }
    if (!attrs.has(attr)) attrs.set(attr, value)
  }
}
