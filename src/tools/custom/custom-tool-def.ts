import { z } from 'zod'

/** Matches `{name}` placeholders in a command entry or target template. */
export const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g

export const CustomArgDef = z
  .object({
    type: z.enum(['string', 'number', 'boolean', 'enum']),
    description: z.string().optional(),
    /** The allowed values of an `enum` arg. */
    values: z.array(z.string().min(1)).min(1).optional(),
    required: z.boolean().default(true),
    /** A regex a `string` arg must match in full. */
    pattern: z.string().optional(),
    default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  })
  .strict()
  .refine((a) => a.type !== 'enum' || a.values !== undefined, { message: 'an enum arg needs values' })
  .refine((a) => a.pattern === undefined || isRegex(a.pattern), { message: 'pattern is not a valid regex' })
export type CustomArgDef = z.infer<typeof CustomArgDef>

function isRegex(p: string): boolean {
  try {
    new RegExp(p)
    return true
  } catch {
    return false
  }
}

function placeholders(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string)
}

/**
 * A tool declared in configuration (`toolSettings.customTools`). `command` is an argv array;
 * `{arg}` placeholders are replaced inside single entries, so each value stays one argument and
 * no shell ever parses it. An entry whose placeholder names an absent optional arg is dropped.
 *
 * @example
 *   { name: 'deploy', description: 'Deploy a release', access: 'write', timeoutMs: 300000,
 *     command: ['./scripts/deploy.sh', '--env', '{env}', '{ref}'], target: 'deploy:{env}',
 *     args: { env: { type: 'enum', values: ['staging', 'prod'] }, ref: { type: 'string', pattern: '[\\w./-]+' } } }
 */
export const CustomToolDef = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'lowercase letters, digits and _'),
    description: z.string().min(1),
    command: z
      .array(z.string())
      .min(1)
      .refine((c) => placeholders(c[0] ?? '').length === 0, {
        message: 'the program (command[0]) cannot be a placeholder',
      }),
    args: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), CustomArgDef).default({}),
    access: z.enum(['read', 'write']),
    /** What read-before-write keys on, with placeholders, e.g. `deploy:{env}`. */
    target: z.string().optional(),
    timeoutMs: z.number().int().positive().default(60_000),
    /** Working directory; relative to the first workspace root. Defaults to that root. */
    cwd: z.string().optional(),
    /** Extra environment variables for the command (PATH and HOME are passed through). */
    env: z.record(z.string(), z.string()).default({}),
  })
  .strict()
  .superRefine((def, ctx) => {
    for (const text of [...def.command, def.target ?? '']) {
      for (const p of placeholders(text)) {
        if (!(p in def.args))
          ctx.addIssue({
            code: 'custom',
            message: `placeholder {${p}} names no declared arg`,
            path: ['command'],
          })
      }
    }
  })
export type CustomToolDef = z.infer<typeof CustomToolDef>
