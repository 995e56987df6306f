/** Marker words the cleaner leaves where it removed something; they become features too. */
export const Marker = {
  CODE: 'xxcode',
  URL: 'xxurl',
  VERSION: 'xxversion',
  PATH: 'xxpath',
  IMAGE: 'xximage',
} as const

const FENCED = /```[\s\S]*?(```|$)|~~~[\s\S]*?(~~~|$)/g
const HTML_COMMENT = /<!--[\s\S]*?(-->|$)/g
const IMAGE = /!\[[^\]]*\]\([^)]*\)|<img\b[^>]*>/gi
const URL_RE = /\bhttps?:\/\/[^\s)>\]]+/gi
const TAG = /<\/?[a-z][^>]*>/gi
// 1.2, v1.2.3, 4.28.0-035a41c4e, 2.13.0rc1
const VERSION = /\bv?\d+(\.\d+)+([-+.]?[a-z0-9]+)*\b/gi
const HEX = /\b[0-9a-f]{7,40}\b/gi
const PATH = /(?:[a-z]:)?(?:[\w.-]+)?(?:[/\\][\w.@-]+){2,}/gi
// Issue-form placeholders and checklist boilerplate carry no signal about the issue itself.
const BOILERPLATE = /_no response_|\bn\/a\b|- \[[ x]\] /gi
const NUMBER = /\b\d+\b/g

/**
 * Normalises a GitHub/Gitea issue text for classification: drops HTML comments (template hints),
 * replaces code blocks, images, URLs, paths and version numbers by marker words (their presence is
 * a cue, their content mostly noise), removes empty issue-form answers, and lowercases.
 *
 * @example
 * cleanText('Crash in 1.2.3\n```\nstack\n```\nsee https://x.y') // 'crash in xxversion xxcode see xxurl'
 */
export function cleanText(text: string): string {
  return text
    .replace(HTML_COMMENT, ' ')
    .replace(FENCED, ` ${Marker.CODE} `)
    .replace(IMAGE, ` ${Marker.IMAGE} `)
    .replace(URL_RE, ` ${Marker.URL} `)
    .replace(TAG, ' ')
    .replace(PATH, ` ${Marker.PATH} `)
    .replace(VERSION, ` ${Marker.VERSION} `)
    .replace(HEX, ' ')
    .replace(BOILERPLATE, ' ')
    .replace(NUMBER, ' ')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim()
}

/**
 * Light cleaning for the regex rules: drops template hints, code blocks, URLs and empty form
 * answers but keeps words, numbers and case-insensitive matching intact (a CVE id must survive).
 *
 * @example
 * stripForRules('Crash <!-- describe -->\n```\nlog\n```') // 'Crash \n \n'
 */
export function stripForRules(text: string): string {
  return text
    .replace(HTML_COMMENT, ' ')
    .replace(FENCED, ' ')
    .replace(URL_RE, ' ')
    .replace(/_no response_/gi, ' ')
}
