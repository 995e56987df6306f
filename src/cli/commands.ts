import { auditCommand } from './audit-command.js'
import type { CliCommand } from './cli-command.js'
import { keysCommand } from './keys-command.js'
import { approveCommand, runCommand, testCommand } from './run-command.js'
import { toolsCommand } from './tools-command.js'
import { verifyCommand } from './verify-command.js'

/** Every `uni-wizard` subcommand, in the order `--help` lists them. */
export const cliCommands: CliCommand[] = [
  runCommand,
  testCommand,
  toolsCommand,
  approveCommand,
  verifyCommand,
  keysCommand,
  auditCommand,
]
