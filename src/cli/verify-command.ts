import { createPublicKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { describeApprovals } from '../harness/describe-approvals.js'
import { KeyStore } from '../provenance/key-store.js'
import { verifyEnvelope } from '../provenance/dsse.js'
import { findEnvelope } from '../provenance/find-envelope.js'
import { UsageError, type CliCommand } from './cli-command.js'
import { cliSetup, readStdin, usage } from './cli-setup.js'

/** `uni-wizard verify <file|->`. */
export const verifyCommand: CliCommand = {
  name: 'verify',
  summary: 'check a signed provenance envelope (or a comment holding one) and print its statement',
  usage: `usage: uni-wizard verify <file|-> [--key <pem>]... [--key-dir <dir>] [--json]

Reads a DSSE envelope: raw JSON, or a Gitea comment (markdown) that embeds one in a \`\`\`json block
or an <!-- uni-wizard:envelope … --> marker. Checks the signature against the house public keys in
the key directory (default <UW_DATA_DIR>/keys), or only against --key files (PEM, public or
private), and prints the in-toto statement.

exit: 0 valid, 1 invalid or no envelope found, 2 usage

example:
  uni-wizard verify comment.md --key timmy.pub`,
  async run(argv) {
    const { values, positionals } = usage(() =>
      parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          key: { type: 'string', multiple: true, default: [] },
          'key-dir': { type: 'string' },
          json: { type: 'boolean', default: false },
        },
      }),
    )
    const source = positionals[0]
    if (!source || positionals.length > 1) throw new UsageError('give one file, or - for stdin')
    let text: string
    try {
      text = source === '-' ? await readStdin() : readFileSync(source, 'utf8')
    } catch (err) {
      throw new UsageError(`cannot read ${source}: ${(err as Error).message}`)
    }
    const keys: { house: string; key: KeyObject }[] = []
    for (const file of values.key) {
      try {
        keys.push({ house: file, key: createPublicKey(readFileSync(file, 'utf8')) })
      } catch (err) {
        throw new UsageError(`--key ${file}: not a readable PEM key (${(err as Error).message})`)
      }
    }
    if (values.key.length === 0) {
      const dir = values['key-dir'] ?? cliSetup({ useRedis: false }).keyDir
      for (const k of new KeyStore(dir).publicKeys()) keys.push({ house: k.house, key: k.publicKey })
      if (keys.length === 0) {
        console.error(`uni-wizard verify: no public keys in ${dir}; pass --key <file>`)
        return 1
      }
    }
    const envelope = findEnvelope(text)
    if (!envelope) {
      console.error('uni-wizard verify: invalid: no DSSE envelope found in the input')
      return 1
    }
    const v = verifyEnvelope(
      envelope,
      keys.map((k) => k.key),
    )
    if (!v.valid) {
      console.error(`uni-wizard verify: invalid: ${v.reason}`)
      return 1
    }
    const signer = keys.find((k) => verifyEnvelope(envelope, [k.key]).valid)?.house ?? v.keyid
    let statement: unknown
    try {
      statement = JSON.parse(v.payload.toString('utf8'))
    } catch {
      statement = v.payload.toString('utf8')
    }
    const approvals = describeApprovals(statement, routerKeysFor(values['key-dir']))
    if (values.json) {
      console.log(JSON.stringify({ valid: true, signer, keyid: v.keyid, statement, approvals }, null, 2))
    } else {
      console.log(`valid: signed by ${signer} (keyid ${v.keyid})`)
      for (const a of approvals) console.log(a.text)
      console.log(JSON.stringify(statement, null, 2))
    }
    return 0
  },
}

/** The router public key of the key directory, to check approval attestations with (none: not checked). */
function routerKeysFor(keyDir: string | undefined): KeyObject[] {
  const key = new KeyStore(keyDir ?? cliSetup({ useRedis: false }).keyDir).routerPublicKey()
  return key ? [key] : []
}
