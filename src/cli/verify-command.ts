import { createPublicKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { verifyText, type TrustedKey, type Verdict } from '../report/verify-verdict.js'
import { describeApprovals } from '../harness/approvals/describe-approvals.js'
import { KeyStore } from '../provenance/key-store.js'
import { UsageError, type CliCommand } from './cli-command.js'
import { cliSetup, readStdin, usage } from './cli-setup.js'

function loadKeys(files: readonly string[], keyDir: string | undefined): TrustedKey[] {
  const keys: TrustedKey[] = []
  for (const file of files) {
    try {
      keys.push({ house: file, key: createPublicKey(readFileSync(file, 'utf8')) })
    } catch (err) {
      throw new UsageError(`--key ${file}: not a readable PEM key (${(err as Error).message})`)
    }
  }
  if (files.length > 0) return keys
  const dir = keyDir ?? cliSetup({ useRedis: false }).keyDir
  for (const k of new KeyStore(dir).publicKeys()) keys.push({ house: k.house, key: k.publicKey })
  if (keys.length === 0) throw new NoKeys(dir)
  return keys
}

class NoKeys extends Error {
  constructor(readonly dir: string) {
    super(`no public keys in ${dir}; pass --key <file>`)
  }
}

function print(
  verdict: Extract<Verdict, { valid: true }>,
  approvals: ReturnType<typeof describeApprovals>,
  json: boolean,
): void {
  const { signer, keyid, statement, checked, remarks } = verdict
  if (json) {
    console.log(
      JSON.stringify({ valid: true, signer, keyid, checked, remarks, approvals, statement }, null, 2),
    )
    return
  }
  console.log(`valid: signed by ${signer} (keyid ${keyid})`)
  console.log(`checked: ${checked}`)
  for (const r of remarks) console.log(`note: ${r}`)
  for (const a of approvals) console.log(a.text)
  console.log(JSON.stringify(statement, null, 2))
}

/** `uni-wizard verify <file|->`. */
export const verifyCommand: CliCommand = {
  name: 'verify',
  summary: 'check a result comment (or a bare DSSE envelope) against its signed statement',
  usage: `usage: uni-wizard verify <file|-> [--key <pem>]... [--key-dir <dir>] [--json]

Reads a bot result comment (its raw markdown) or a bare DSSE envelope (JSON).

For a comment: takes the one envelope at the end of the comment, where the bot writes it (any
other envelope, anywhere, fails the check), checks its signature against the house public keys
in the key directory (default <UW_DATA_DIR>/keys) or only against --key files (PEM, public or
private), then checks that the comment shows what the statement signs: job id, status, tool,
house, requester and mode, the output (its digest is recomputed; a cut output is checked against
the signed digest of the part shown) and every line of the provenance list. It fails naming the
first field that differs. The reason and notes are explanation and are not signed.

For a bare envelope: checks only its signature.

Prints the in-toto statement.

exit: 0 valid, 1 invalid (or no envelope), 2 usage

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
    let keys: TrustedKey[]
    try {
      keys = loadKeys(values.key, values['key-dir'])
    } catch (err) {
      if (!(err instanceof NoKeys)) throw err
      console.error(`uni-wizard verify: ${err.message}`)
      return 1
    }
    const verdict = verifyText(text, keys)
    if (!verdict.valid) {
      console.error(`uni-wizard verify: invalid: ${verdict.reason}`)
      return 1
    }
    print(verdict, describeApprovals(verdict.statement, routerKeysFor(values['key-dir'])), values.json)
    return 0
  },
}

/** The router public key of the key directory, to check approval attestations with (none: not checked). */
function routerKeysFor(keyDir: string | undefined): KeyObject[] {
  const key = new KeyStore(keyDir ?? cliSetup({ useRedis: false }).keyDir).routerPublicKey()
  return key ? [key] : []
}
