import {
  isLetter,
  isSpace,
  RAW_TEXT_ELEMENTS,
  readTag,
  VOID_ELEMENTS,
} from '../../command-parsing/html-tag.js'
// Elements whose content a reader never sees as text: scripts, styles, templates, frames, and the
// raw-text elements Gitea's sanitiser drops with their content.
const HIDING_ELEMENTS = new Set([
  'embed',
  'head',
  'iframe',
  'noembed',
  'noframes',
  'noscript',
  'object',
  'script',
  'style',
  'svg',
  'template',
  'textarea',
  'title',
  'xmp',
])

// A `style` that makes an element's text invisible (compared without spaces, lower-case).
const HIDING_STYLE =
  /(?:^|;)(?:display:none|visibility:(?:hidden|collapse)|font-size:0(?![.\d]*[1-9])|opacity:0(?![.\d]*[1-9])|color:transparent|(?:width|height|max-width|max-height):0(?![.\d]*[1-9]))/

interface Open {
  name: string
  hides: boolean
}

/**
 * Follows raw HTML through a document, piece by piece, and gives back the text a reader sees:
 * tags and their attributes (alt, title, data-*) are dropped, and so is everything inside
 * comments, `<script>`, `<style>`, `<template>` and the like, and inside elements hidden with
 * `hidden` or a `style` such as `display:none`, `visibility:hidden` or `font-size:0`. `<details>`
 * is visible. An unterminated comment or tag hides the rest of the document (`hidesTheRest`).
 *
 * @example
 *   const h = new HtmlText()
 *   h.feed('<span hidden>secret</span>shown') // 'shown'
 */
export class HtmlText {
  private readonly open: Open[] = []
  private hidingOpen = 0
  private rawText: string | undefined
  private lost = false

  /** Nothing after this point is visible: an unterminated comment or tag. */
  get hidesTheRest(): boolean {
    return this.lost
  }

  /** Whether text (Markdown or HTML) at this point is hidden. */
  get hides(): boolean {
    return this.lost || this.hidingOpen > 0 || this.rawText !== undefined
  }

  /** Reads one more piece of raw HTML; returns its visible text. */
  feed(html: string): string {
    let out = ''
    let i = 0
    while (i < html.length && !this.lost) {
      if (this.rawText !== undefined) {
        i = this.readRawText(html, i)
        continue
      }
      const lt = html.indexOf('<', i)
      const stop = lt === -1 ? html.length : lt
      if (!this.hides) out += html.slice(i, stop)
      if (lt === -1) break
      i = this.readMarkup(html, lt, (text) => {
        if (!this.hides) out += text
      })
    }
    return out
  }

  private readMarkup(s: string, at: number, text: (t: string) => void): number {
    const c = s[at + 1]
    if (c === '!') {
      if (s.startsWith('<!--', at)) {
        if (s.startsWith('<!-->', at)) return at + 5
        if (s.startsWith('<!--->', at)) return at + 6
        return this.skipPast(s, at + 4, '-->')
      }
      return this.skipPast(s, at + 2, '>')
    }
    if (c === '?') return this.skipPast(s, at + 2, '>')
    if (c === '/' && !isLetter(s[at + 2])) return this.skipPast(s, at + 2, '>')
    if (c !== '/' && !isLetter(c)) {
      text('<')
      return at + 1
    }
    const tag = readTag(s, at)
    if (tag.next === -1) {
      this.lost = true
      return s.length
    }
    if (tag.end) this.close(tag.name)
    else this.start(tag.name, tag.attrs)
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

  private start(name: string, attrs: Map<string, string>): void {
    if (name === 'plaintext') {
      this.lost = true
      return
    }
    if (VOID_ELEMENTS.has(name)) return
    const style = (attrs.get('style') ?? '').toLowerCase().replace(/\/\*[\s\S]*?\*\/|\s|!important/g, '')
    const hides = HIDING_ELEMENTS.has(name) || attrs.has('hidden') || HIDING_STYLE.test(style)
    this.open.push({ name, hides })
    if (hides) this.hidingOpen++
    if (RAW_TEXT_ELEMENTS.has(name)) this.rawText = name
  }

  private close(name: string): void {
    for (let k = this.open.length - 1; k >= 0; k--) {
      const el = this.open[k] as Open
      if (el.name === name) {
        for (const popped of this.open.splice(k)) if (popped.hides) this.hidingOpen--
        return
      }
      // Another element's end tag never closes a hiding element.
      if (el.hides) return
    }
  }

  private readRawText(s: string, from: number): number {
    const name = this.rawText as string
    const lower = s.toLowerCase()
    const endTag = `</${name}`
    let at = lower.indexOf(endTag, from)
    while (at !== -1) {
      const after = lower[at + endTag.length]
      if (after === undefined || isSpace(after) || after === '/' || after === '>') break
      at = lower.indexOf(endTag, at + 2)
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
