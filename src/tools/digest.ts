import { createHash } from 'node:crypto'

/**
 * Hex SHA-256 of a string or bytes, the digest every tool reports (targets, outputs, evidence).
 *
 * @example
 *   sha256Hex('abc') // 'ba7816bf…'
 */
export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}
