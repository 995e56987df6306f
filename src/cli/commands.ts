import type { CliCommand } from './cli-command.js'
import { serveCommand } from './serve.js'
import { toolsCommand } from './tools-command.js'

/** Every `uni-wizard` subcommand, in the order `--help` lists them. */
export const cliCommands: CliCommand[] = [serveCommand, toolsCommand]
