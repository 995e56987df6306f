// The uni-wizard command line: bin/uni-wizard.js calls main(), which dispatches to one file per
// command, listed in commands.ts.
export { main } from './main.js'
export { cliCommands } from './commands.js'
export { UsageError, type CliCommand } from './cli-command.js'
