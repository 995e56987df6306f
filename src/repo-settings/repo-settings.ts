import { z } from 'zod'
import { BranchPrefix } from '../tools/tools-config.js'

/** The settings file's name, at the root of the repository's default branch. */
export const REPO_SETTINGS_FILE = '.uni-wizard.yaml'

/** Longest proof command run (10 minutes). */
export const PROOF_MAX_TIMEOUT_MS = 10 * 60_000

// Variables a proof command may not set: the ones the runner owns (PATH, HOME) and the exec
// marker that finds a command's descendants to kill them (UW_EXEC_ID, and the bot's own UW_*).
const RESERVED_ENV = /^(PATH|HOME|UW_.*)$/

const HouseName = z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'must be a house name (a-z, 0-9, _ and -)')

/**
 * One proof command: a program and its arguments, run without a shell in the job's checkout.
 *
 * @example
 *   { name: 'tests', argv: ['npm', 'test'], timeoutMs: 300000 }
 */
export const ProofCommand = z
  .object({
    /** Shown in the evidence and the result; unique in the list. */
    name: z.string().regex(/^[A-Za-z0-9][\w.-]{0,63}$/, 'must be 1-64 letters, digits, _, . or -'),
    /** argv[0] is a program on PATH or a path inside the checkout (`./scripts/test.sh`); no shell. */
    argv: z
      .array(
        z
          .string()
          .min(1)
          .max(4096)
          .refine((a) => !a.includes('\0'), 'must not contain a NUL character'),
      )
      .min(1)
      .max(64),
    timeoutMs: z
      .number()
      .int()
      .min(1000)
      .max(PROOF_MAX_TIMEOUT_MS)
      .default(5 * 60_000),
    /** Extra variables (literal values; the bot's environment is never passed on). */
    env: z
      .record(z.string(), z.string().max(4096))
      .superRefine((env, ctx) => {
        const names = Object.keys(env)
        if (names.length > 32) ctx.addIssue({ code: 'custom', message: 'at most 32 variables' })
        for (const name of names) {
          if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name))
            ctx.addIssue({ code: 'custom', path: [name.slice(0, 40)], message: 'is not a variable name' })
          else if (RESERVED_ENV.test(name))
            ctx.addIssue({ code: 'custom', path: [name], message: 'is set by the runner (PATH, HOME, UW_*)' })
        }
      })
      .optional(),
  })
  .strict()
export type ProofCommand = z.infer<typeof ProofCommand>

/**
 * `.uni-wizard.yaml`: what a repository says about the bot's work on it. Read from the default
 * branch only (docs/CONFIG.md).
 *
 * @example
 *   RepoSettings.parse({ version: 1, houses: ['bezalel'], proof: [{ name: 'tests', argv: ['npm', 'test'] }] })
 */
export const RepoSettings = z
  .object({
    version: z.literal(1).default(1),
    /** Houses that may work on the repository; absent: every house. */
    houses: z.array(HouseName).min(1).max(64).optional(),
    /** Replaces `toolSettings.git.branchPrefix` for this repository (same rules). */
    branchPrefix: BranchPrefix.optional(),
    /** Run after a successful tool run on a proof-required house; each must pass. */
    proof: z
      .array(ProofCommand)
      .max(20)
      .refine((p) => new Set(p.map((c) => c.name)).size === p.length, 'names must be unique')
      .default([]),
  })
  .strict()
export type RepoSettings = z.infer<typeof RepoSettings>

/** The settings of a repository without a settings file. */
export const DEFAULT_REPO_SETTINGS: RepoSettings = Object.freeze({ version: 1, proof: [] }) as RepoSettings

/**
 * Whether the settings let `house` work on the repository.
 *
 * @example
 *   houseAllowed({ version: 1, proof: [], houses: ['bezalel'] }, 'ezra') // false
 */
export function houseAllowed(settings: RepoSettings, house: string): boolean {
  return settings.houses === undefined || settings.houses.includes(house)
}
