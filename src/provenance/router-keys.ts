import { createPublicKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { keyIdOf } from './dsse.js'
import type { KeyStore } from './key-store.js'

/** The router keys a worker trusts, and why any configured one was left out. */
export interface TrustedRouterKeys {
  keys: KeyObject[]
  problems: string[]
}

/**
 * The router public keys a worker trusts for approval attestations: each configured entry (PEM
 * text, or the path of a PEM file), else the key directory's `_router.pub`. A key that is also a
 * house key of the directory is left out: a house key standing in as the router's would let that
 * house's worker approve every house's jobs, which is what router keys exist to prevent.
 *
 * @example
 *   const { keys, problems } = trustedRouterKeys(new KeyStore(dir), config.keys.routerPublicKeys)
 */
export function trustedRouterKeys(store: KeyStore, configured?: readonly string[]): TrustedRouterKeys {
  const problems: string[] = []
  const candidates: { from: string; key: KeyObject }[] = []
  if (configured && configured.length > 0) {
    for (const entry of configured) {
      const from = entry.includes('-----BEGIN') ? 'an inline keys.routerPublicKeys entry' : resolve(entry)
      try {
        const pem = entry.includes('-----BEGIN') ? entry : readFileSync(from, 'utf8')
        candidates.push({ from, key: createPublicKey(pem) })
      } catch (err) {
        problems.push(`keys.routerPublicKeys: ${from} is not a readable PEM key (${(err as Error).message})`)
      }
    }
  } else {
    const key = store.routerPublicKey()
    if (key) candidates.push({ from: `${store.dir}/_router.pub`, key })
  }
  const houseIds = new Map(store.publicKeys().map((k) => [k.keyid, k.house]))
  const keys: KeyObject[] = []
  for (const c of candidates) {
    if (c.key.asymmetricKeyType !== 'ed25519') {
      problems.push(`${c.from} is not an ed25519 key`)
      continue
    }
    const house = houseIds.get(keyIdOf(c.key))
    if (house) {
      problems.push(`${c.from} is house ${house}'s key, not a router key; it is not trusted for approvals`)
      continue
    }
    keys.push(c.key)
  }
  return { keys, problems }
}
