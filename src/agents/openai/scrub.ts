/**
 * Text safe to put in an event, an error or an outcome: the secret (the API key) replaced
 * wherever it appears, then capped at `max` characters when given. A server or proxy may echo
 * the key in an error body, a model may repeat what it was shown.
 *
 * @example
 *   scrub('bad key sk-123', 'sk-123') // 'bad key [redacted]'
 */
export function scrub(text: string, secret: string | undefined, max = Number.POSITIVE_INFINITY): string {
  const clean = secret && secret.length > 0 ? text.split(secret).join('[redacted]') : text
  return clean.length > max ? `${clean.slice(0, max)}…` : clean
}
