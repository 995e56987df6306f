import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import {
  chmodSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { join, resolve } from 'node:path'
import { z } from 'zod'
import { keyIdOf } from './dsse.js'

/** One house's signing key pair. */
export interface HouseKey {
  house: string
  keyid: string
  privateKey: KeyObject
  publicKey: KeyObject
  /** SPKI PEM of the public key, for export. */
  publicPem: string
}

const HOUSE_NAME = /^[a-z][a-z0-9_-]{0,62}$/

/**
 * File stem of the router's identity key: `_router.key` / `_router.pub`. A house name starts with a
 * letter, so no house can ever be named so, and no house worker ever holds the router's key.
 */
export const ROUTER_KEY_NAME = '_router'

/** The router's signing key pair (it signs approval attestations, never provenance). */
export type RouterKey = Omit<HouseKey, 'house'>

/** File name of the record of when this key directory first had (or trusted) a router key. */
export const ROUTER_RECORD_FILE = `${ROUTER_KEY_NAME}.created`

/**
 * `_router.created`: when this key directory first held a router key (the router's machine) or
 * first trusted one (a worker's machine), and the keyids of the house public keys it held at that
 * moment. Written once, never overwritten: it dates the upgrade from house-key (legacy) approvals,
 * so a legacy approval can be told to be from before the upgrade by its signed expiry alone.
 */
export const RouterKeyRecord = z.object({
  since: z.iso.datetime({ offset: true }),
  houseKeyids: z.array(z.string()),
})
export type RouterKeyRecord = z.infer<typeof RouterKeyRecord>

/** Default key directory: `<UW_DATA_DIR>/keys`. */
export function defaultKeyDir(dataDir = process.env.UW_DATA_DIR || '.data'): string {
  return resolve(dataDir, 'keys')
}

/**
 * House ed25519 keys in a directory: `<house>.key` (PKCS#8 PEM, mode 0600) and `<house>.pub`
 * (SPKI PEM). A key is generated on first use; concurrent first uses by several processes agree
 * on one key because the file is published with link(2), which fails when it already exists.
 *
 * @example
 *   const keys = new KeyStore('/var/lib/uni-wizard/keys')
 *   const { keyid, publicPem } = keys.get('timmy')
 */
export class KeyStore {
  private readonly cache = new Map<string, HouseKey>()
  readonly dir: string

  constructor(dir: string = defaultKeyDir()) {
    this.dir = resolve(dir)
  }

  /** The house's key pair, generated and stored on first use. */
  get(house: string): HouseKey {
    // Checked before the cache, which also holds the router's key under a non-house name.
    if (!HOUSE_NAME.test(house))
      throw new TypeError(`invalid house name for a key file: ${JSON.stringify(house)}`)
    const cached = this.cache.get(house)
    if (cached) return cached
    const key = this.load(house) ?? this.generate(house)
    this.cache.set(house, key)
    return key
  }

  /**
   * The router's identity key pair (`_router.key`), generated and stored on first use. Only the
   * process that runs the router (or a library caller approving calls) asks for it; workers only
   * read its public key (`routerPublicKey`).
   *
   * @example
   *   const { keyid, publicPem } = new KeyStore(dir).router()
   */
  router(): RouterKey {
    const cached = this.cache.get(ROUTER_KEY_NAME)
    if (cached) return cached
    const loaded = this.load(ROUTER_KEY_NAME)
    const key = loaded ?? this.generate(ROUTER_KEY_NAME)
    // A key made by a version that kept no record is dated by its file, never later than now.
    this.recordRouterKey(loaded ? this.mtime(`${ROUTER_KEY_NAME}.key`) : undefined)
    this.cache.set(ROUTER_KEY_NAME, key)
    return key
  }

  /** The `_router.created` record; undefined when there is none or it does not parse. Never writes. */
  routerKeyRecord(): RouterKeyRecord | undefined {
    let text: string
    try {
      text = readFileSync(join(this.dir, ROUTER_RECORD_FILE), 'utf8')
    } catch {
      return undefined
    }
    try {
      const parsed = RouterKeyRecord.safeParse(JSON.parse(text))
      return parsed.success ? parsed.data : undefined
    } catch {
      return undefined
    }
  }

  /**
   * Records, once, that this directory has (or trusts) a router key since `at` (default now; a
   * time in the future counts as now), with the keyids of the house `.pub` files here now. An
   * existing record always wins, even one that does not parse, so nothing moves the date later:
   * not a restart, not a re-created router key, not a racing process. Returns the record on disk,
   * or undefined when it cannot be written or read (a read-only directory).
   *
   * @example
   *   const { since } = keys.recordRouterKey() ?? {}
   */
  recordRouterKey(at?: Date): RouterKeyRecord | undefined {
    const existing = this.routerKeyRecord()
    if (existing) return existing
    const now = Date.now()
    const since = new Date(Math.min(at?.getTime() ?? now, now)).toISOString()
    // Public files only: this may run in a router whose house .key files must never be loaded.
    const houseKeyids = this.names('.pub').flatMap((house) => {
      try {
        return [keyIdOf(createPublicKey(readFileSync(join(this.dir, `${house}.pub`), 'utf8')))]
      } catch {
        return []
      }
    })
    const record: RouterKeyRecord = { since, houseKeyids }
    try {
      this.publishOnce(ROUTER_RECORD_FILE, `${JSON.stringify(record)}\n`, 0o644)
    } catch {
      return undefined
    }
    return this.routerKeyRecord()
  }

  /** The router's public key from `_router.pub` (or `_router.key`); undefined when neither exists. Never generates. */
  routerPublicKey(): KeyObject | undefined {
    return this.publicKey(ROUTER_KEY_NAME)
  }

  /** When `_router.pub` was written (its mtime), for dating a copied-in key; undefined without one. */
  routerPublicKeyTime(): Date | undefined {
    return this.mtime(`${ROUTER_KEY_NAME}.pub`)
  }

  /** Houses whose private key (`<house>.key`) is in the directory; the router key is not a house. */
  privateKeyHouses(): string[] {
    return this.names('.key')
  }

  /** Public key of a house, read from `<house>.pub` (or its private key); undefined when none exists. */
  publicKey(house: string): KeyObject | undefined {
    const cached = this.cache.get(house)
    if (cached) return cached.publicKey
    try {
      return createPublicKey(readFileSync(join(this.dir, `${house}.pub`), 'utf8'))
    } catch {
      return this.load(house)?.publicKey
    }
  }

  /**
   * Every house public key in the directory, by house. Does not generate anything. The router's
   * `_router.pub` is not listed: it signs attestations, and must never pass for a house signer.
   */
  publicKeys(): { house: string; keyid: string; publicKey: KeyObject; publicPem: string }[] {
    return this.names('.pub').flatMap((house) => {
      const publicKey = this.publicKey(house)
      if (!publicKey) return []
      const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
      return [{ house, keyid: keyIdOf(publicKey), publicKey, publicPem }]
    })
  }

  /** House names with a `<house><ext>` file, sorted. */
  private names(ext: '.key' | '.pub'): string[] {
    let names: string[]
    try {
      names = readdirSync(this.dir)
    } catch {
      return []
    }
    return names
      .filter((n) => n.endsWith(ext))
      .map((n) => n.slice(0, -ext.length))
      .filter((house) => HOUSE_NAME.test(house))
      .sort()
  }

  private load(house: string): HouseKey | undefined {
    let pem: string
    try {
      pem = readFileSync(join(this.dir, `${house}.key`), 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
    const privateKey = createPrivateKey(pem)
    const publicKey = createPublicKey(privateKey)
    const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
    return { house, keyid: keyIdOf(publicKey), privateKey, publicKey, publicPem }
  }

  private mtime(file: string): Date | undefined {
    try {
      return statSync(join(this.dir, file)).mtime
    } catch {
      return undefined
    }
  }

  /**
   * Writes `name` whole unless it exists: a temporary file, then link(2), which fails when the
   * name exists. Readers never see a half-written file, and the first writer wins.
   */
  private publishOnce(name: string, content: string, mode: number): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    const tmp = join(this.dir, `.${name}.${process.pid}.${Date.now()}`)
    writeFileSync(tmp, content, { mode, flag: 'wx' })
    chmodSync(tmp, mode) // the umask may have narrowed it further; never wider
    try {
      linkSync(tmp, join(this.dir, name))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      // Another process won the race: its file stands.
    } finally {
      rmSync(tmp, { force: true })
    }
  }

  private generate(house: string): HouseKey {
    const { privateKey } = generateKeyPairSync('ed25519')
    const keyPath = join(this.dir, `${house}.key`)
    // Another process may win the race: then its key is used, so every signature verifies with one public key.
    this.publishOnce(`${house}.key`, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600)
    const key = this.load(house)
    if (!key) throw new Error(`key file ${keyPath} vanished right after it was written`)
    // Rename is atomic, so readers never see a half-written public key; racers write the same bytes.
    const pubTmp = join(this.dir, `.${house}.pub.${process.pid}.${Date.now()}`)
    writeFileSync(pubTmp, key.publicPem, { mode: 0o644 })
    renameSync(pubTmp, join(this.dir, `${house}.pub`))
    return key
  }
}
