import { createHash, timingSafeEqual } from 'node:crypto'
import type { Secret } from '../config/secret.js'

const digest = (s: string) => createHash('sha256').update(s).digest()

/**
 * Checks an `Authorization: Bearer <token>` header against a token, comparing digests (constant
 * time, whatever the lengths).
 *
 * @example
 *   bearerCheck(c.req.header('authorization'), token) // 'ok' | 'missing' | 'wrong'
 */
export function bearerCheck(header: string | undefined, token: Secret): 'ok' | 'missing' | 'wrong' {
  const given = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1]
  if (!given) return 'missing'
  return timingSafeEqual(digest(given), digest(token.reveal())) ? 'ok' : 'wrong'
}
