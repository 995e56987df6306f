import { DsseEnvelope } from './dsse.js'

/**
 * A DSSE envelope given on its own: the whole text (trimmed) is the envelope's JSON, or this is
 * undefined. Envelopes are never searched for inside other text: a comment can hold envelopes
 * anyone pasted, so a bot comment is read only by its layout (`readResultComment` in the daemon,
 * which is what `uni-wizard verify` uses for comments).
 *
 * @example
 *   const env = parseEnvelopeJson(readFileSync('envelope.json', 'utf8'))
 */
export function parseEnvelopeJson(text: string): DsseEnvelope | undefined {
  const trimmed = text.trim()
  if (!trimmed.startsWith('{')) return undefined
  try {
    const parsed = DsseEnvelope.safeParse(JSON.parse(trimmed))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}
