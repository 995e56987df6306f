import { parseArgs } from 'node:util'
import { FileAuditLog, RedisAuditLog, verifyAuditChain, type AuditLog } from '../provenance/audit-log.js'
import { DEFAULT_PREFIX } from '../queue/connection.js'
import { UsageError, type CliCommand } from './cli-command.js'
import { cliSetup, usage } from './cli-setup.js'

/** `uni-wizard audit verify`. */
export const auditCommand: CliCommand = {
  name: 'audit',
  summary: 'walk the hash-chained audit log and name the first broken link',
  usage: `usage: uni-wizard audit verify [--file <path>] [--prefix <redis key prefix>]

Reads the audit log (the Redis stream <prefix>:audit when REDIS_URL is set, else the JSONL file
<UW_DATA_DIR>/audit.jsonl or audit.path; --file forces a file) and checks every link.

exit: 0 intact, 1 broken, 2 usage`,
  async run(argv) {
    const { values, positionals } = usage(() =>
      parseArgs({
        args: argv,
        allowPositionals: true,
        options: { file: { type: 'string' }, prefix: { type: 'string', default: DEFAULT_PREFIX } },
      }),
    )
    if (positionals[0] !== 'verify' || positionals.length !== 1)
      throw new UsageError('the subcommand is `verify`')
    const setup = cliSetup({ useRedis: !values.file })
    try {
      const log: AuditLog = values.file
        ? new FileAuditLog(values.file)
        : setup.redis
          ? new RedisAuditLog(setup.redis, values.prefix)
          : new FileAuditLog(setup.auditPath)
      const where = values.file ?? (setup.redis ? `Redis stream ${values.prefix}:audit` : setup.auditPath)
      const v = await verifyAuditChain(log)
      if (v.ok) {
        console.log(`ok: ${v.count} entries, chain intact (${where})`)
        return 0
      }
      console.error(
        `uni-wizard audit: broken link at entry ${v.brokenAt.index + 1} (${v.brokenAt.where}): ${v.brokenAt.reason}; ${v.count} entries before it are intact`,
      )
      return 1
    } finally {
      await setup.close()
    }
  },
}
