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
    // PEM (RSA, EC, OPENSSH, ENCRYPTED...) and PGP armour (`PRIVATE KEY BLOCK`); cut ones too.
    re: /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)/g,
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
  // GitLab personal/project tokens, OpenAI/Anthropic-style `sk-` keys, Google API keys.
  { re: /\b(glpat-[A-Za-z0-9_-]{20,})/g, keep: () => REDACTED },
  { re: /\b(sk-[A-Za-z0-9_-]{20,})/g, keep: () => REDACTED },
  { re: /\b(AIza[0-9A-Za-z_-]{35})/g, keep: () => REDACTED },
  // A bare JWT (header.payload.signature, both JSON parts base64url of `{"`).
  { re: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, keep: () => REDACTED },
  {
    // Docker/Podman config.json: `"auth": "<base64 of user:password>"`, identity and registry tokens.
    re: /("(?:auth|identitytoken|registrytoken)"\s*:\s*")[A-Za-z0-9+/=._-]{8,}"/gi,
    keep: (_m, pre = '') => `${pre}${REDACTED}"`,
  },
  {
    // netrc: `machine h login u password p` (or `default …`) on one line; a `password p` line
    // below is caught by the next pattern. Prose ("your login and password below") has no `machine`.
    re: /(\b(?:machine\s+\S+|default)\s+(?:login\s+\S+\s+)?(?:account\s+\S+\s+)?password\s+)\S+/g,
    keep: (_m, pre = '') => `${pre}${REDACTED}`,
  },
  { re: /^([ \t]*password[ \t]+)(?=\S*[\d\W])\S+[ \t]*$/gm, keep: (_m, pre = '') => `${pre}${REDACTED}` },
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

/**
 * Any run of this many consecutive characters of a configured secret is hidden too, so a cut read
 * (`file_read maxBytes: 63` of a 64-character secret) or a secret spliced into other text shows at
 * most this many characters less one. 12 characters of a random secret are 48+ bits: ordinary
 * output does not hold them by chance.
 */
const PARTIAL_RUN = 12

/** Base64 (or base64url) runs long enough to hide something: decoded and scanned (see below). */
const BASE64_RUN = /[A-Za-z0-9+/_-]{16,}={0,2}/g

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** The first three UTF-16 units of `s` from `i` as one number (a cheap prefilter key, no allocation). */
function head3(s: string, i: number): number {
  return (s.charCodeAt(i) * 0x10000 + s.charCodeAt(i + 1)) * 0x10000 + s.charCodeAt(i + 2)
}

/** Every PARTIAL_RUN-gram of the secrets, and the set of their first three characters. */
interface Grams {
  all: Set<string>
  heads: Set<number>
}

/**
 * The ranges of `text` covered by runs of at least PARTIAL_RUN characters of a secret: each
 * position of the text is looked up once, first by its next three characters as a number (most
 * positions stop there), then by its PARTIAL_RUN-gram. Linear in the text, whatever the secrets.
 */
function partialRuns(grams: Grams, text: string): [number, number][] {
  const ranges: [number, number][] = []
  for (let i = 0; i + PARTIAL_RUN <= text.length; i++) {
    if (!grams.heads.has(head3(text, i)) || !grams.all.has(text.slice(i, i + PARTIAL_RUN))) continue
    const last = ranges.at(-1)
    if (last && i <= last[1]) last[1] = i + PARTIAL_RUN
    else ranges.push([i, i + PARTIAL_RUN])
  }
  return ranges
}

function replaceRanges(text: string, ranges: readonly [number, number][]): string {
  if (ranges.length === 0) return text
  let out = ''
  let at = 0
  for (const [start, end] of ranges) {
    out += text.slice(at, start) + REDACTED
    at = end
  }
  return out + text.slice(at)
}

/**
 * Removes secrets from text: the configured secret values (also URL- and base64-encoded, and any
 * run of 12 or more of their characters), token, credential and private-key patterns, and any
 * base64 run whose decoded bytes hold one of those (a `file_read encoding: base64` of a key file or
 * a password file, a Basic or docker `auth` value). Applied to output, error messages, evidence
 * and anything logged.
 *
 * @example
 *   const redact = createRedactor([process.env.GITEA_TOKEN])
 *   redact('Authorization: token abc123') // 'Authorization: token [redacted]'
 */
export function createRedactor(secrets: readonly (string | undefined)[] = []): (text: string) => string {
  const values = new Set<string>()
  const grams: Grams = { all: new Set(), heads: new Set() }
  for (const s of secrets) {
    if (!s || s.length < MIN_SECRET_LENGTH) continue
    values.add(s)
    values.add(encodeURIComponent(s))
    values.add(Buffer.from(s, 'utf8').toString('base64').replace(/=+$/, ''))
    for (let i = 0; i + PARTIAL_RUN <= s.length; i++) {
      grams.all.add(s.slice(i, i + PARTIAL_RUN))
      grams.heads.add(head3(s, i))
    }
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
  /** Configured values, partial runs and patterns, on plain text. */
  const plain = (text: string): string => {
    let out = literal ? text.replace(literal, REDACTED) : text
    if (grams.all.size > 0) out = replaceRanges(out, partialRuns(grams, out))
    for (const p of PATTERNS) out = out.replace(p.re, p.keep as (m: string, ...g: string[]) => string)
    return out
  }
  /** Whether the bytes a base64 run stands for (at any of the 4 alignments) hold a secret. */
  const hidesSecret = (run: string): boolean => {
    // Commit ids and digests (hex only) are by far the commonest runs, and the base64 of text is
    // never all hex digits: skip them, so `git log` output costs no decoding.
    if (/^[0-9a-fA-F]+$/.test(run)) return false
    for (let offset = 0; offset < 4 && run.length - offset >= 16; offset++) {
      const decoded = Buffer.from(run.slice(offset), /[_-]/.test(run) ? 'base64url' : 'base64').toString(
        'utf8',
      )
      if (plain(decoded) !== decoded) return true
    }
    return false
  }
  return (text: string): string =>
    plain(text).replace(BASE64_RUN, (run) => (hidesSecret(run) ? REDACTED : run))
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
