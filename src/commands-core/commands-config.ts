import { z } from 'zod'

const Rule = (limit: number, windowSeconds: number) =>
  z
    .object({
      limit: z.number().int().positive(),
      windowSeconds: z.number().int().positive(),
    })
    .strict()
    .prefault({ limit, windowSeconds })

/**
 * The `commands` section of the YAML config: how slash commands are limited.
 *
 * @example
 *   # uw.yaml
 *   commands:
 *     rateLimit: { perUser: { limit: 10, windowSeconds: 60 }, perIssue: { limit: 30, windowSeconds: 60 } }
 *     maxCommandsPerComment: 10
 *     maxCommentBytes: 65536
 *     approvalTtlSeconds: 86400
 *     agents: { labelTriggers: false }
 */
export const CommandsConfig = z
  .object({
    rateLimit: z
      .object({
        /** Commands one user may send per window, across all repositories. */
        perUser: Rule(10, 60),
        /** Commands all users together may send on one issue per window. */
        perIssue: Rule(30, 60),
      })
      .strict()
      .prefault({}),
    /** Commands beyond this many in one comment are ignored (the reply says so). */
    maxCommandsPerComment: z.number().int().positive().max(100).default(10),
    /**
     * Bodies longer than this (UTF-8 bytes) are not read for commands: parsing Markdown is linear
     * but not cheap (a hostile 64 KiB body takes tens of milliseconds, 5 MiB, which a webhook may
     * carry, seconds of the router's event loop). GitHub caps comments at 65,536 characters, so
     * people used to it never write a longer command comment. One that starts with a known
     * command gets a reply saying it is too long; any other stays silent.
     */
    maxCommentBytes: z
      .number()
      .int()
      .min(1024)
      .max(5 * 1024 * 1024)
      .default(65_536),
    /** Triggers that start agent tasks without a command (docs/BOT.md, "Assigning an issue to a house"). */
    agents: z
      .object({
        /**
         * Whether a person adding a `house/<name>` label starts that house's default task
         * (`implement` for the implementation role on an issue, `review` for the review role on a
         * pull request). Off by default: a label then only routes `/run`.
         */
        labelTriggers: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    /** How long a request for approval stays valid. */
    approvalTtlSeconds: z
      .number()
      .int()
      .positive()
      .default(24 * 3600),
  })
  .strict()
export type CommandsConfig = z.infer<typeof CommandsConfig>
