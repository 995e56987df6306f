import { auditCommand } from './audit-command.js'
import type { CliCommand } from './cli-command.js'
import { keysCommand } from './keys-command.js'
import { approveCommand, runCommand, testCommand } from './run-command.js'
import { verifyCommand } from './verify-command.js'

/**
 * Every `uni-wizard` subcommand, in the order `--help` lists them. `tools` comes from the tools
 * branch (src/cli/tools-command.ts) and goes after `test` when the branches merge.
 */
export const cliCommands: CliCommand[] = [
  runCommand,
  testCommand,
  approveCommand,
  verifyCommand,
  keysCommand,
  auditCommand,
]
