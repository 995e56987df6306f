import { UsageError } from './cli-command.js'
import { cliCommands } from './commands.js'

function topHelp(): string {
  const width = Math.max(...cliCommands.map((c) => c.name.length), 4)
  return [
    'usage: uni-wizard <command> [options]',
    '',
    'commands:',
    ...cliCommands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `uni-wizard <command> --help` for a command’s options.',
  ].join('\n')
}

/** Entry point of the `uni-wizard` binary. Resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  // `uni-wizard tools | head` closes the pipe early; that is not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0)
    throw err
  })
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(topHelp())
    return name ? 0 : 2
  }
  const command = cliCommands.find((c) => c.name === name)
  if (!command) {
    console.error(`uni-wizard: unknown command "${name}"\n\n${topHelp()}`)
    return 2
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.usage)
    return 0
  }
  try {
    return await command.run(rest)
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`uni-wizard ${name}: ${err.message}\n\n${command.usage}`)
      return 2
    }
    console.error(`uni-wizard ${name}: ${err instanceof Error ? err.message : String(err)}`)
    return 1
  }
}
