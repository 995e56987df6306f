import { parseArgs } from 'node:util'
import { KeyStore } from '../provenance/key-store.js'
import type { CliCommand } from './cli-command.js'
import { cliSetup, usage } from './cli-setup.js'

/** `uni-wizard keys`. */
export const keysCommand: CliCommand = {
  name: 'keys',
  summary: 'print the house public keys (for `verify --key` elsewhere)',
  usage: `usage: uni-wizard keys [--house <h>]... [--json]

Prints the public key (PEM) and keyid of every house key in the key directory
(<UW_DATA_DIR>/keys or keys.dir in the config). --house creates that house's key if it has none.

example:
  uni-wizard keys --house timmy > timmy.pub`,
  async run(argv) {
    const { values } = usage(() =>
      parseArgs({
        args: argv,
        options: {
          house: { type: 'string', multiple: true, default: [] },
          json: { type: 'boolean', default: false },
        },
      }),
    )
    const store = new KeyStore(cliSetup({ useRedis: false }).keyDir)
    for (const house of values.house) store.get(house)
    const keys = store
      .publicKeys()
      .filter((k) => values.house.length === 0 || values.house.includes(k.house))
      .map((k) => ({ house: k.house, keyid: k.keyid, publicKey: k.publicPem }))
    if (values.json) {
      console.log(JSON.stringify(keys, null, 2))
      return 0
    }
    if (keys.length === 0) {
      console.error(
        `uni-wizard keys: no keys in ${store.dir} (they are created on first signed run, or with --house)`,
      )
      return 1
    }
    for (const k of keys) process.stdout.write(`# house ${k.house} keyid ${k.keyid}\n${k.publicKey}`)
    return 0
  },
}
