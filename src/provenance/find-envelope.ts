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
  for (const block of fencedBlocks(text)) {
    const env = tryEnvelope(block.trim())
    if (env) return env
  }
  return undefined
}

/**
 * The bodies of fenced code blocks with no info string or `json`, paired line by line like
 * Markdown does (a closing fence is the same character, at least as long), so a comment with
 * other code blocks before the envelope (the job's output) is read correctly. `> ` quoting, as
 * when a comment is quoted in a reply, is stripped first.
 */
function fencedBlocks(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/).map((l) => l.replace(/^(?:[ \t]*>[ \t]?)+/, ''))
  const blocks: string[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^[ \t]*(`{3,}|~{3,})[ \t]*([^`\s]*)[ \t]*$/.exec(lines[i] ?? '')
    if (!open) continue
    const fence = open[1] as string
    const close = lines.findIndex(
      (l, j) => j > i && l.trim().startsWith(fence) && /^(`+|~+)$/.test(l.trim()) && l.trim()[0] === fence[0],
    )
    const end = close === -1 ? lines.length : close
    if (open[2] === '' || open[2] === 'json') blocks.push(lines.slice(i + 1, end).join('\n'))
    i = end
  }
  return blocks
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
