/** What replaces a secret. */
export const REDACTED = '[redacted]'

// Key names that carry secrets, in env files, URLs, JSON, YAML and logs: `password`, `db_password`,
// `GITEA_TOKEN`, `apiKey`, `client_secret`, `credentials`...
const SECRET_KEY = String.raw`[a-z0-9_-]*(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|client[_-]?secret|credentials?)`

// A bare value after `key:` that is just a word ("No", "required", "missing", "null") is prose, as
// in `secret: No such file`; one with a digit or a symbol, mixed case, or 12+ characters is
// treated as a credential. (`key=value` is an assignment: its value is always hidden.)
const PLAIN_WORD = /^[A-Za-z][a-z]{0,10}$/

function redactKeyValue(
  m: string,
  pre: string,
  sep: string,
  dq: string | undefined,
  sq: string | undefined,
  bare: string | undefined,
): string {
  if (dq !== undefined) return dq === '' ? m : `${pre}"${REDACTED}"`
  if (sq !== undefined) return sq === '' ? m : `${pre}'${REDACTED}'`
  if (sep === ':' && PLAIN_WORD.test(bare ?? '')) return m
  return `${pre}${REDACTED}`
}

// Each pattern keeps the part that says what was there (the key, the scheme) and hides the value.
// 40-hex strings alone are not redacted: they are git commit ids far more often than Gitea tokens,
// so a Gitea token is caught by its context (`token …`, `access_token=`, Authorization, URL userinfo).
const PATTERNS: { re: RegExp; keep: (m: string, ...groups: string[]) => string }[] = [
  {
    re: /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
    keep: () => `-----BEGIN PRIVATE KEY-----${REDACTED}-----END PRIVATE KEY-----`,
  },
  {
    // `Authorization: Bearer x`, and quoted as a JSON or YAML key: `"Authorization": "token x"`.
    re: /\b(authorization["']?\s*[:=]\s*["']?)(token|bearer|basic)\s+[^\s"',;]+/gi,
    keep: (_m, pre = '', scheme = '') => `${pre}${scheme} ${REDACTED}`,
  },
  { re: /\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})\b/g, keep: () => REDACTED },
  { re: /\b((?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16})\b/g, keep: () => REDACTED },
  { re: /\b(xox[abposr]-[A-Za-z0-9-]{10,})\b/g, keep: () => REDACTED },
  {
    re: /\b((?:aws_secret_access_key|aws_session_token)["']?\s*[:=]\s*["']?)[^\s"',;&]+/gi,
    keep: (_m, pre = '') => `${pre}${REDACTED}`,
  },
  {
    // key=value, key: value, "key": "value", 'key': 'value'. A quoted value is hidden whole
    // (spaces and all); a bare one unless it is a plain word after a colon (see PLAIN_WORD).
    re: new RegExp(
      String.raw`\b(${SECRET_KEY}["']?\s*([:=])\s*)(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'|([^\s"',;&}]+))`,
      'gi',
    ),
    keep: redactKeyValue as (m: string, ...groups: string[]) => string,
  },
  { re: /\b(token\s+)([0-9a-f]{40})\b/gi, keep: (_m, pre = '') => `${pre}${REDACTED}` },
  {
    re: /\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:)([^\s/@]+)@/gi,
    keep: (_m, pre = '') => `${pre}${REDACTED}@`,
  },
]

/** Configured secret values shorter than this are ignored: redacting "a" would wreck every output. */
const MIN_SECRET_LENGTH = 4

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * Removes secrets from text: the configured secret values (also URL- and base64-encoded), and token,
 * credential and private-key patterns. Applied to output, error messages, evidence and anything logged.
 *
 * @example
 *   const redact = createRedactor([process.env.GITEA_TOKEN])
 *   redact('Authorization: token abc123') // 'Authorization: token [redacted]'
 */
export function createRedactor(secrets: readonly (string | undefined)[] = []): (text: string) => string {
  const values = new Set<string>()
  for (const s of secrets) {
    if (!s || s.length < MIN_SECRET_LENGTH) continue
    values.add(s)
    values.add(encodeURIComponent(s))
    values.add(Buffer.from(s, 'utf8').toString('base64').replace(/=+$/, ''))
  }
  // Longest first, so a secret that contains another is replaced whole.
  const literal =
    values.size > 0
      ? new RegExp(
          [...values]
            .sort((a, b) => b.length - a.length)
            .map(escapeRegExp)
            .join('|'),
          'g',
        )
      : undefined
  return (text: string): string => {
    let out = literal ? text.replace(literal, REDACTED) : text
    for (const p of PATTERNS) out = out.replace(p.re, p.keep as (m: string, ...g: string[]) => string)
    return out
  }
}

/** Redacts every string inside a JSON-serialisable value. */
export function redactValue<T>(value: T, redact: (text: string) => string): T {
  if (typeof value === 'string') return redact(value) as T
  if (Array.isArray(value)) return value.map((v) => redactValue(v, redact)) as T
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redactValue(v, redact)]),
    ) as T
  }
  return value
}

/**
 * Caps text at `maxBytes` of UTF-8, never splitting a character, and says how much was cut.
 *
 * @example
 *   capOutput('x'.repeat(70_000), 65_536).cutBytes // 4464
 */
export function capOutput(text: string, maxBytes: number): { text: string; cutBytes: number } {
  // Fast path: a string this short cannot exceed the cap even at 3 bytes per UTF-16 unit.
  if (text.length * 3 <= maxBytes) return { text, cutBytes: 0 }
  const bytes = Buffer.from(text, 'utf8')
  if (bytes.length <= maxBytes) return { text, cutBytes: 0 }
  let end = maxBytes
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--
  const cut = bytes.length - end
  return {
    text: `${bytes.subarray(0, end).toString('utf8')}\n… [output truncated: ${cut} more bytes not shown]`,
    cutBytes: cut,
  }
}
