import type { CliCommand } from './cli-command.js'
import { triageCommand } from './triage.js'

/** Every `uni-wizard <name>` subcommand, in the order `--help` lists them. */
export const cliCommands: CliCommand[] = [triageCommand]
