import { attestApproval, callDigest } from '../harness/approvals/approval.js'
import type { Logger } from '../logger.js'
import type { KeyStore } from '../provenance/key-store.js'
import type { ToolSpec } from '../tools/tool.js'
import type { ApprovalSigner } from '../jobs/bull-jobs.js'
import { toolArgs } from '../workers/house-vocabulary.js'

/**
 * The router's approval signer: turns an accepted `/approve` into an attestation signed with the
 * router's own key (`_router.key` in the key directory, generated here on first start). It loads no
 * house key: the worker of the job's house verifies the attestation with the router's public key
 * and re-checks the approver against its own sovereigns.
 *
 * The call digest is computed as the worker will compute it: the tool's schema applied to the
 * coerced command args (`toolArgs`), so an approval and its execution agree.
 *
 * @example
 *   const signApproval = routerApprovalSigner({ keys: new KeyStore(keyDir), tools, log })
 */
export function routerApprovalSigner(opts: {
  keys: KeyStore
  tools: readonly ToolSpec[]
  log: Logger
  now?: () => Date
}): ApprovalSigner {
  const key = opts.keys.router()
  opts.log.info({ keyid: key.keyid, dir: opts.keys.dir }, 'router approval key ready')
  const tools = new Map(opts.tools.map((t) => [t.name, t]))
  return (rec, approver, comment, asked) => {
    const spec = tools.get(rec.tool)
    const args = toolArgs(spec, rec.args)
    const parsed = spec?.args.safeParse(args)
    return attestApproval(key, {
      approver,
      house: rec.house,
      jobId: rec.id,
      runId: rec.runId,
      digest: asked ?? callDigest(rec.tool, parsed?.success ? parsed.data : args),
      comment,
      ttlMs: rec.approvalTtlSeconds * 1000,
      now: opts.now?.(),
    })
  }
}

/**
 * House private keys that a process running none of those houses' workers holds: after the
 * upgrade to router attestations the router needs none, and each one is a key a compromise of
 * this machine would hand over. Returns the warning to log, or undefined.
 */
export function strayHouseKeys(keys: KeyStore, workers: readonly string[]): string | undefined {
  const stray = keys.privateKeyHouses().filter((h) => !workers.includes(h))
  if (stray.length === 0) return undefined
  return (
    `house private keys ${stray.map((h) => `${h}.key`).join(', ')} are in ${keys.dir} but this process runs no worker ` +
    'of those houses; the router signs approvals with _router.key only, so move them to the machines that run those workers'
  )
}
