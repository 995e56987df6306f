import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** File under UW_DATA_DIR holding the sandbox's generated webhook secret. */
export const SANDBOX_SECRET_FILE = 'sandbox-webhook-secret'

/**
 * The webhook secret of sandbox mode (no GITEA_URL, no WEBHOOK_SECRET): read from
 * `<dataDir>/sandbox-webhook-secret`, or generated (32 random bytes, hex) and written there with
 * mode 0600 on first use, so the sandbox's own webhook sender and the ingress agree across runs.
 *
 * @example
 *   const secret = sandboxSecret('.data')
 */
export function sandboxSecret(dataDir: string): string {
  const file = join(dataDir, SANDBOX_SECRET_FILE)
  try {
    const existing = readFileSync(file, 'utf8').trim()
    if (existing) return existing
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  mkdirSync(dataDir, { recursive: true })
  const secret = randomBytes(32).toString('hex')
  writeFileSync(file, `${secret}\n`, { mode: 0o600 })
  return secret
}
