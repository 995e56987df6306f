import { z } from 'zod'

const Str = z.string()

/**
 * The strict base schema for a command's input: every kind of argument is refused unless the
 * command's `shape` overrides it. So `/status foo=bar` says "takes no key=value arguments" instead of
 * silently ignoring `foo=bar`.
 *
 * @example
 *   const StatusArgs = commandInput({ positionals: z.array(z.string()).max(1, 'at most one job id') })
 *     .transform((i) => ({ job: i.positionals[0] }))
 */
export function commandInput<S extends z.ZodRawShape>(shape: S) {
  return z
    .object({
      positionals: z.array(Str).max(0, 'takes no arguments'),
      named: z.record(Str, Str).refine((r) => Object.keys(r).length === 0, 'takes no key=value arguments'),
      houses: z.array(Str).max(0, 'takes no @house'),
      mode: z.undefined({ error: 'takes no --mode' }),
      dryRun: z.literal(false, { error: 'takes no --dry-run' }),
      flags: z.record(Str, z.union([Str, z.literal(true)])).superRefine((flags, ctx) => {
        for (const name of Object.keys(flags))
          ctx.addIssue({ code: 'custom', message: `unknown flag --${name}` })
      }),
      errors: z.array(Str).superRefine((errors, ctx) => {
        for (const message of errors) ctx.addIssue({ code: 'custom', message })
      }),
    })
    .extend(shape)
}

/** A job id as typed by a person: the ids the bot prints, without anything that could be markup. */
export const JobIdArg = z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'a job id such as j0123456789ab')

/**
 * The zod issues of a refused command, as one line for a reply.
 *
 * @example
 *   formatArgsError(StatusArgs.safeParse(input).error!) // 'takes no key=value arguments'
 */
export function formatArgsError(error: z.ZodError): string {
  return [...new Set(error.issues.map((i) => i.message))].join('; ')
}
