import { DsseEnvelope } from './dsse.js'

const MARKER = 'uni-wizard:envelope'

function tryEnvelope(text: string): DsseEnvelope | undefined {
  try {
    const parsed = DsseEnvelope.safeParse(JSON.parse(text))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}

/**
 * Finds a DSSE envelope in text: the whole text as JSON, an `<!-- uni-wizard:envelope {…} -->`
 * marker, or a fenced ```json block (how `embedEnvelope` writes it into a Gitea comment).
 *
 * @example
 *   const env = findEnvelope(commentBody)
 */
export function findEnvelope(text: string): DsseEnvelope | undefined {
  const whole = tryEnvelope(text.trim())
  if (whole) return whole
  const markerRe = new RegExp(`<!--\\s*${MARKER}\\s*([\\s\\S]*?)-->`, 'g')
  for (const m of text.matchAll(markerRe)) {
    const env = tryEnvelope((m[1] ?? '').trim())
    if (env) return env
  }
  for (const m of text.matchAll(/```(?:json)?[ \t]*\r?\n([\s\S]*?)\r?\n[ \t]*```/g)) {
    const env = tryEnvelope((m[1] ?? '').trim())
    if (env) return env
  }
  return undefined
}

/**
 * Markdown for a comment: a collapsed block holding the envelope, plus a machine marker, so a reader
 * can copy the comment into `uni-wizard verify -`.
 *
 * @example
 *   body += '\n\n' + embedEnvelope(result.provenance.envelope)
 */
export function embedEnvelope(
  envelope: DsseEnvelope,
  summary = 'Signed provenance (uni-wizard verify)',
): string {
  const json = JSON.stringify(envelope)
  return [
    `<details><summary>${summary}</summary>`,
    '',
    '```json',
    json,
    '```',
    '',
    '</details>',
    `<!-- ${MARKER} ${json} -->`,
  ].join('\n')
}
