import { parseArgs } from 'node:util'
import { KeyStore } from '../provenance/key-store.js'
import { keyIdOf } from '../provenance/dsse.js'
import type { CliCommand } from './cli-command.js'
import { cliSetup, usage } from './cli-setup.js'

/** One exported public key. */
interface ExportedKey {
  /** `house` signs provenance; `router` signs approval attestations. */
  role: 'house' | 'router'
  house?: string
  keyid: string
  publicKey: string
}

/** `uni-wizard keys`. */
export const keysCommand: CliCommand = {
  name: 'keys',
  summary: 'print the public keys: houses (for `verify`) and the router (for workers)',
  usage: `usage: uni-wizard keys [--house <h>]... [--router] [--json]

Prints the public key (PEM) and keyid of every house key in the key directory
(<UW_DATA_DIR>/keys or keys.dir in the config), and of the router's key (_router.pub) when
there is one. Only public keys are printed.
  --house <h>   only that house; creates its key if it has none (on the house's worker machine)
  --router      only the router's key; creates it if it has none (on the router's machine)

The router signs approvals with its own key; each worker machine needs its public key:
  uni-wizard keys --router > _router.pub      # on the router's machine
  # copy it to <keys.dir>/_router.pub on every worker machine (or list it in keys.routerPublicKeys)

example:
  uni-wizard keys --house timmy > timmy.pub`,
  async run(argv) {
    const { values } = usage(() =>
      parseArgs({
        args: argv,
        options: {
          house: { type: 'string', multiple: true, default: [] },
          router: { type: 'boolean', default: false },
          json: { type: 'boolean', default: false },
        },
      }),
    )
    const store = new KeyStore(cliSetup({ useRedis: false }).keyDir)
    for (const house of values.house) store.get(house)
    if (values.router) store.router()
    const filtered = values.house.length > 0 || values.router
    const keys: ExportedKey[] = store
      .publicKeys()
      .filter((k) => (filtered ? values.house.includes(k.house) : true))
      .map((k) => ({ role: 'house', house: k.house, keyid: k.keyid, publicKey: k.publicPem }))
    const router = store.routerPublicKey()
    if (router && (!filtered || values.router)) {
      const publicKey = router.export({ type: 'spki', format: 'pem' }).toString()
      keys.push({ role: 'router', keyid: keyIdOf(router), publicKey })
    }
    if (values.json) {
      console.log(JSON.stringify(keys, null, 2))
      return 0
    }
    if (keys.length === 0) {
      console.error(
        `uni-wizard keys: no keys in ${store.dir} (they are created on first signed run, or with --house / --router)`,
      )
      return 1
    }
    for (const k of keys) {
      const who = k.role === 'router' ? 'router' : `house ${k.house}`
      process.stdout.write(`# ${who} keyid ${k.keyid}\n${k.publicKey}`)
    }
    return 0
  },
}
