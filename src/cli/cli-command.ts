/** One `uni-wizard <name>` subcommand. Listed in src/cli/commands.ts. */
export interface CliCommand {
  name: string
  /** One line for `uni-wizard --help`. */
  summary: string
  /** Full usage text for `uni-wizard <name> --help`. */
  usage: string
  /** Runs the command; resolves to the process exit code (0 ok, 1 failure, 2 usage). */
  run(argv: string[]): Promise<number>
}

/** Thrown for a usage mistake; main prints the message and the command's usage and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}
