import { createHash } from 'node:crypto'

/**
 * Serialises a JSON value with object keys sorted and no whitespace, so equal values always give
 * equal bytes (the digests in approvals, statements and the audit chain depend on it). For the
 * values uni-wizard signs (strings, finite numbers, booleans, arrays, plain objects) this is the
 * RFC 8785 (JCS) form. `undefined` object members are dropped, as JSON.stringify does.
 *
 * @example
 *   canonicalJson({ b: 1, a: [true, 'x'] }) // '{"a":[true,"x"],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value)
    if (text === undefined) throw new TypeError(`canonicalJson: cannot serialise ${typeof value}`)
    return text
  }
  if (Array.isArray(value)) {
    return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return canonicalJson((value as { toJSON(): unknown }).toJSON())
  }
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && typeof v !== 'function')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
}

/** Hex sha256 of a string or bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

/**
 * `sha256:<hex>` of a value's canonical JSON: the digest form used for args, approvals and audit links.
 *
 * @example
 *   digestOf({ tool: 'git_status', args: { repoPath: '/srv/r' } }) // 'sha256:3f…'
 */
export function digestOf(value: unknown): string {
  return `sha256:${sha256Hex(canonicalJson(value))}`
}
