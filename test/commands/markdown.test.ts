import { describe, expect, it } from 'vitest'
import {
  codeBlock,
  codeSpan,
  inlineText,
  mention,
  plainTitle,
  WORD_JOINER,
} from '../../src/commands-core/markdown.js'

/** What CommonMark shows for a code span: the text between the backtick runs, one space stripped each side. */
function spanText(span: string): string {
  const ticks = /^`+/.exec(span)?.[0] ?? ''
  const inner = span.slice(ticks.length, -ticks.length)
  return /^ .* $/.test(inner) && inner.trim() !== '' ? inner.slice(1, -1) : inner
}

describe('inert Markdown helpers', () => {
  it.each(['a', '`a`', 'a ``` b', '`', ' padded ', '``x``'])('codeSpan(%j) reads back as written', (t) => {
    const span = codeSpan(t)
    const ticks = /^`+/.exec(span)?.[0] ?? ''
    expect(t.includes(ticks)).toBe(false)
    expect(spanText(span)).toBe(t)
  })

  it('codeSpan puts text with line breaks on one line', () => {
    expect(codeSpan('a\n# b')).toBe('`a # b`')
  })

  it('codeBlock uses a fence no line of the text can close', () => {
    const text = '```\n````\n~~~'
    const block = codeBlock(text, 'text')
    const fence = /^`+/.exec(block)?.[0] ?? ''
    expect(fence).toBe('`````')
    expect(block.split('\n').slice(1, -1).join('\n')).toBe(text)
  })

  it('inlineText escapes Markdown and HTML, stays on one line and neither pings nor links', () => {
    const out = inlineText('# **x** [a](http://e) <b> &amp; @timmy #12 !3 `c`\n> quote\u202e')
    expect(out).not.toContain('\n')
    expect(out.startsWith('\\#')).toBe(true)
    expect(out).toContain('\\*\\*x\\*\\*')
    expect(out).toContain('\\[a\\]\\(http\\:\\/\\/e\\)')
    expect(out).toContain('&lt;b\\>')
    expect(out).toContain('&amp;amp\\;')
    expect(out).toContain(`\\@${WORD_JOINER}timmy`)
    expect(out).toContain(`\\#${WORD_JOINER}12`)
    expect(out).toContain(`\\!${WORD_JOINER}3`)
    expect(out).toContain('\\`c\\`')
    expect(out).toContain(' \\> quote\ufffd')
  })

  it('mention pings only a valid login', () => {
    expect(mention('timmy')).toBe('@timmy')
    expect(mention('a.b-c_d')).toBe('@a.b-c_d')
    expect(mention('x](http://e)')).toBe('`@x](http://e)`')
  })
})

describe('plainTitle', () => {
  const cases = [
    { title: 'Alert: UwHouseNoLiveWorker (house=ezra)', expected: 'Alert: UwHouseNoLiveWorker (house=ezra)' },
    {
      title: 'ping @ops about #12 and !3',
      expected: `ping @${WORD_JOINER}ops about #${WORD_JOINER}12 and !${WORD_JOINER}3`,
    },
    { title: 'two\nlines\r\n  here ', expected: 'two lines here' },
    { title: 'rtl \u202eevil\u0007', expected: 'rtl \ufffdevil\ufffd' },
    // Not Markdown: punctuation is kept as written, without backslashes.
    { title: '**bold** <b>', expected: '**bold** <b>' },
  ]
  it.each(cases)('$title', ({ title, expected }) => expect(plainTitle(title)).toBe(expected))
})
