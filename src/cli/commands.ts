import type { CliCommand } from './cli-command.js'
import { labelsCommand } from './labels.js'
import { serveCommand } from './serve.js'
import { toolsCommand } from './tools-command.js'
import { triageCommand } from './triage.js'

/** Every `uni-wizard` subcommand, in the order `--help` lists them. */
export const cliCommands: CliCommand[] = [serveCommand, toolsCommand, triageCommand, labelsCommand]
