import { auditCommand } from './audit-command.js'
import type { CliCommand } from './cli-command.js'
import { keysCommand } from './keys-command.js'
import { labelsCommand } from './labels.js'
import { predictCommand } from './predict-command.js'
import { approveCommand, runCommand, testCommand } from './run-command.js'
import { sandboxCommand } from './sandbox-command.js'
import { telemetryCommand } from './telemetry-command.js'
import { serveCommand, workerCommand } from './serve.js'
import { makeToolsCommand } from './tools-command.js'
import { triageCommand } from './triage.js'
import { verifyCommand } from './verify-command.js'
import { cliTools } from './cli-setup.js'

/** Every `uni-wizard` subcommand, in the order `--help` lists them. */
export const cliCommands: CliCommand[] = [
  serveCommand,
  workerCommand,
  sandboxCommand,
  runCommand,
  testCommand,
  makeToolsCommand(cliTools),
  approveCommand,
  verifyCommand,
  keysCommand,
  auditCommand,
  telemetryCommand,
  predictCommand,
  triageCommand,
  labelsCommand,
]
