import { isLetter, isSpace, RAW_TEXT_ELEMENTS, readTag, VOID_ELEMENTS, type HtmlTag } from './html-tag.js'
/**
 * Elements whose text a reader of a rendered comment sees as ordinary text. Every other element
 * (`<details>`, `<pre>`, `<code>`, `<script>`, `<style>`, `<textarea>`, `<template>`, `<svg>`,
 * `<blockquote>`, unknown names...) hides the Markdown written inside it from command parsing:
 * deny by default, so an element added to HTML tomorrow cannot smuggle a command.
 */
const SHOWN = new Set([
  'a',
  'abbr',
  'address',
  'article',
  'aside',
  'b',
  'bdi',
  'bdo',
  'big',
  'caption',
  'center',
  'cite',
  'dd',
  'del',
  'dfn',
  'div',
  'dl',
  'dt',
  'em',
  'figcaption',
  'figure',
  'font',
  'footer',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'header',
  'hgroup',
  'i',
  'ins',
  'li',
  'main',
  'mark',
  'nav',
  'ol',
  'p',
  'q',
  's',
  'section',
  'small',
  'span',
  'strike',
  'strong',
  'sub',
  'sup',
  'table',
  'tbody',
  'td',
  'tfoot',
  'th',
  'thead',
  'tr',
  'u',
  'ul',
])

/** An end tag does not reach past these (HTML's scope boundaries, e.g. `</details>` inside a `<table>`). */
const BOUNDARY = new Set([
  'applet',
  'caption',
  'html',
  'marquee',
  'math',
  'object',
  'select',
  'svg',
  'table',
  'td',
  'template',
  'th',
])

/** Attributes that may hide an element's text (`hidden`, or a `style` that could say `display:none`). */
const HIDING_ATTRIBUTES = new Set(['hidden', 'style'])

interface Open {
  name: string
  hides: boolean
}

/**
 * Follows the raw HTML of a comment (HTML blocks and inline tags, in document order) and says
 * whether text written at the current point is hidden from a reader: inside an element that is
 * not plain layout (see `SHOWN`), inside an element with a `hidden` or `style` attribute, inside
 * the raw text of `<script>`, `<style>`, `<textarea>`..., or after HTML the browser would still be
 * reading (an unclosed tag, attribute value or comment), which hides the rest of the comment.
 *
 * It errs towards hiding: an end tag only closes its element when nothing hiding or a table is
 * open inside it, and element nesting the browser would repair is kept open. Linear in the input.
 *
 * @example
 *   const html = new HtmlVisibility()
 *   html.feed('<details>\n<summary>Logs</summary>\n')
 *   html.hides // true, until html.feed('</details>')
 */
export class HtmlVisibility {
  private readonly open: Open[] = []
  private hidingOpen = 0
  /** The raw-text element being read (only its end tag ends it). */
  private rawText: string | undefined
  /** The browser would still be inside a tag, comment or raw text we cannot follow: hide the rest. */
  private lost = false

  /** Nothing after this point can be visible any more. */
  get hidesTheRest(): boolean {
    return this.lost
  }

  get hides(): boolean {
    return this.lost || this.hidingOpen > 0 || this.rawText !== undefined
  }

  /** Reads one more piece of raw HTML. */
  feed(html: string): void {
    let lower: string | undefined
    let i = 0
    while (i < html.length && !this.lost) {
      if (this.rawText !== undefined) {
        i = this.readRawText(html, (lower ??= html.toLowerCase()), i)
        continue
      }
      const lt = html.indexOf('<', i)
      if (lt === -1) return
      i = this.readMarkup(html, lt)
    }
  }

  /** Reads the markup starting at `<`; returns where to continue. */
  private readMarkup(s: string, at: number): number {
    const c = s[at + 1]
    if (c === '!') {
      if (s.startsWith('<!--', at)) {
        // `<!-->` and `<!--->` are complete (empty) comments in HTML.
        if (s.startsWith('<!-->', at)) return at + 5
        if (s.startsWith('<!--->', at)) return at + 6
        return this.skipPast(s, at + 4, '-->')
      }
      if (s.startsWith('<![CDATA[', at)) return this.skipPast(s, at + 9, ']]>')
      return this.skipPast(s, at + 2, '>')
    }
    if (c === '?') return this.skipPast(s, at + 2, '>')
    if (c === '/' && s[at + 2] === '>') return at + 3
    if (c === '/' && !isLetter(s[at + 2])) return this.skipPast(s, at + 2, '>')
    if (c !== '/' && !isLetter(c)) return at + 1
    const tag = readTag(s, at)
    if (tag.next === -1) {
      this.lost = true
      return s.length
    }
    if (tag.end) this.close(tag.name)
    else this.start(tag)
    return tag.next
  }

  private skipPast(s: string, from: number, terminator: string): number {
    const end = s.indexOf(terminator, from)
    if (end === -1) {
      this.lost = true
      return s.length
    }
    return end + terminator.length
  }

  private start(tag: HtmlTag): void {
    if (VOID_ELEMENTS.has(tag.name)) return
    if (tag.name === 'plaintext') {
      // Everything after `<plaintext>` is text inside it, to the end of the page.
      this.lost = true
      return
    }
    const hides = !SHOWN.has(tag.name) || [...tag.attrs.keys()].some((a) => HIDING_ATTRIBUTES.has(a))
    this.open.push({ name: tag.name, hides })
    if (hides) this.hidingOpen++
    if (RAW_TEXT_ELEMENTS.has(tag.name)) this.rawText = tag.name
  }

  private close(name: string): void {
    for (let k = this.open.length - 1; k >= 0; k--) {
      const el = this.open[k] as Open
      if (el.name === name) {
        for (const popped of this.open.splice(k)) if (popped.hides) this.hidingOpen--
        return
      }
      // Never close a hiding element or reach out of a table by another element's end tag.
      if (el.hides || BOUNDARY.has(el.name)) return
    }
  }

  /** Inside `<script>`, `<textarea>`...: skips to the element's own end tag (`lower` is `s` lower-cased). */
  private readRawText(s: string, lower: string, from: number): number {
    const name = this.rawText as string
    const endTag = `</${name}`
    let at = lower.indexOf(endTag, from)
    while (at !== -1) {
      const after = lower[at + endTag.length]
      if (after === undefined || isSpace(after) || after === '/' || after === '>') break
      at = lower.indexOf(endTag, at + 2)
    }
    // Script data has escape states (`<!--` ... `<script>`) in which `</script>` does not end it:
    // rather than follow them, hide the rest.
    if (name === 'script' && lower.slice(from, at === -1 ? s.length : at).includes('<!--')) {
      this.lost = true
      return s.length
    }
    if (at === -1) return s.length
    const tag = readTag(s, at)
    if (tag.next === -1) {
      this.lost = true
      return s.length
    }
    this.rawText = undefined
    this.close(name)
    return tag.next
  }
}
