import type { z } from 'zod'
import type { CommandContext } from '../daemon/context.js'
import type { Effect } from '../daemon/effects.js'
import type { Permission } from './permission.js'

/** The help a command carries; `/help` and docs/commands.md are generated from it. */
export interface CommandHelp {
  /** e.g. `/status [job]`. */
  usage: string
  description: string
  /** Full command lines; a test parses each one with the command's own schema. */
  examples: string[]
}

/**
 * One slash command, declared in its own file under `commands/` and listed in `commands/index.ts`.
 *
 * @example
 *   export const houses: CommandSpec<HousesArgs> = {
 *     name: 'houses', aliases: [], permission: 'read', args: HousesArgs,
 *     help: { usage: '/houses', description: 'Lists the houses.', examples: ['/houses'] },
 *     async handle(ctx) { return [reply(ctx, 'list', '...')] },
 *   }
 */
export interface CommandSpec<A = unknown> {
  /** Lower-case name without the slash. */
  name: string
  aliases: readonly string[]
  permission: Permission
  /** Parses the grouped tokens (`CommandInput`) into the command's arguments. */
  args: z.ZodType<A>
  help: CommandHelp
  // Method syntax on purpose: specs with different argument types share one array.
  handle(ctx: CommandContext, args: A): Effect[] | Promise<Effect[]>
}

/**
 * Finds the spec a command name refers to, by name or alias.
 *
 * @example
 *   findCommand(commands, 'h')?.name // 'help'
 */
export function findCommand(commands: readonly CommandSpec[], name: string): CommandSpec | undefined {
  const n = name.toLowerCase()
  return commands.find((c) => c.name === n || c.aliases.includes(n))
}
