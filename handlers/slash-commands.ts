import { findCommand, type CommandSpec } from '../src/commands-core/command-spec.js'
import { formatArgsError } from '../src/commands-core/command-input.js'
import { leadingCommandName, utf8Bytes } from '../src/command-parsing/comment-size.js'
import { didYouMean } from '../src/commands-core/did-you-mean.js'
import { codeSpan, inlineText, mention, quoteCommand } from '../src/commands-core/markdown.js'
import { parseCommands, type ParsedCommand } from '../src/command-parsing/parse-commands.js'
import { PERMISSION_TEXT, permits } from '../src/commands-core/permission.js'
import { reply } from '../src/commands-core/reply.js'
import type { CommandContext, HandlerContext, RateDecision } from '../src/commands-core/command-spec.js'
import type { Effect } from '../src/effects/effects.js'
import type { CommentHandler } from '../src/router/comment-handler.js'
import { commentKey, jobIdFor, type KeySource } from '../src/effects/idempotency.js'

function commandContext(ctx: HandlerContext, command: ParsedCommand, src: KeySource): CommandContext {
  return {
    ...ctx,
    command,
    requester: { login: ctx.event.author.login, id: ctx.event.author.id },
    commentKey: (purpose) => commentKey(src, purpose),
    jobId: jobIdFor(src, command.index),
  }
}

/** The per-user limit: every command counts, known or not, so one person's flood stays quiet. */
async function userLimit(ctx: HandlerContext, hitId: string): Promise<RateDecision | undefined> {
  const login = ctx.event.author.login.toLowerCase()
  const user = await ctx.limits.hit(`user:${login}`, hitId, ctx.config.rateLimit.perUser)
  return user.allowed ? undefined : user
}

/**
 * The per-issue limit, counted only for known commands whose permission passed: otherwise anyone
 * who can comment (readers, strangers) could use up an issue's budget with unknown or refused
 * commands and lock the writers out.
 */
async function issueLimit(ctx: HandlerContext, hitId: string): Promise<RateDecision | undefined> {
  const e = ctx.event
  const issue = await ctx.limits.hit(
    `issue:${e.repo.owner}/${e.repo.name}#${e.issue.number}`,
    hitId,
    ctx.config.rateLimit.perIssue,
  )
  return issue.allowed ? undefined : issue
}

type Verdict = { ok: true } | { ok: false; why: string; log?: Effect }

/**
 * Fail closed: an error while asking Gitea is never a pass. A transient one (Gitea 5xx, 429, a
 * timeout: `transient: true` on the port's error) is thrown, so the router retries the event with
 * backoff and the command runs once Gitea is back; refusing it would turn a short outage into
 * "permission could not be checked" replies for commands people were allowed to run. Any other
 * error is a denial with the reason.
 */
async function checkPermission(ctx: HandlerContext, spec: CommandSpec): Promise<Verdict> {
  // Anyone who can comment on the issue can read the repository: no Gitea call needed.
  if (spec.permission === 'read') return { ok: true }
  const login = ctx.event.author.login
  try {
    const level = await ctx.permissions(login)
    if (permits(level, spec.permission)) return { ok: true }
    return {
      ok: false,
      why: `${mention(login)}, \`/${spec.name}\` can be run by ${PERMISSION_TEXT[spec.permission]}; your permission here is ${codeSpan(level)}.`,
    }
  } catch (err) {
    if ((err as { transient?: unknown } | null)?.transient === true) throw err
    const reason = err instanceof Error ? err.message : String(err)
    return {
      ok: false,
      why: `${mention(login)}, \`/${spec.name}\` was refused because your permission could not be checked (${inlineText(reason)}). Please try again later.`,
      log: {
        type: 'log',
        level: 'warn',
        message: 'permission check failed; denied',
        data: { login, reason },
      },
    }
  }
}

function unknownReply(ctx: HandlerContext, unknown: ParsedCommand[], src: KeySource): Effect {
  const names = ctx.commands.flatMap((c) => [c.name, ...c.aliases])
  const lines = unknown.map((c) => {
    const close = didYouMean(c.name, names)
    const hint = close.length > 0 ? ` Did you mean ${close.map((n) => `\`/${n}\``).join(' or ')}?` : ''
    return `${quoteCommand(c.raw)}\n\n${codeSpan(`/${c.name}`)} is not a command.${hint}`
  })
  return {
    type: 'comment',
    repo: ctx.repo,
    issue: ctx.event.issue.number,
    key: commentKey(src, 'unknown'),
    body: `${lines.join('\n\n')}\n\nType \`/help\` for the list of commands.`,
  }
}

/** The one notice per rate-limit window that commands are being skipped. */
function rateLimitReply(ctx: HandlerContext, src: KeySource, refused: RateDecision): Effect {
  return {
    type: 'comment',
    repo: ctx.repo,
    issue: ctx.event.issue.number,
    key: commentKey(src, 'rate-limit'),
    body: `${mention(ctx.event.author.login)}, commands are arriving faster than this repository allows, so I am skipping them for about ${refused.resetSeconds} s. This is the only notice until then; please try again afterwards.`,
  }
}

/**
 * A body longer than `maxCommentBytes` is not read for commands (parsing it could hold the router
 * for seconds). When its first line is a known command the author meant one, so one reply says
 * why nothing ran, quoting nothing from the body; otherwise (a long text with a stray `/path`) it
 * stays silent. The reply counts against the user's limit like a command, so a flood stays quiet.
 */
async function tooLong(ctx: HandlerContext, src: KeySource, bytes: number): Promise<Effect[]> {
  const limit = ctx.config.maxCommentBytes
  const log: Effect = {
    type: 'log',
    level: 'info',
    message: 'comment too long to read commands from',
    data: { bytes, limit, commentId: src.commentId },
  }
  const name = leadingCommandName(ctx.event.body)
  if (name === undefined || !findCommand(ctx.commands, name)) return [log]
  const refused = await userLimit(ctx, `${src.deliveryId}:${src.commentId ?? 'body'}:too-long`)
  if (refused) return refused.firstRefusal ? [log, rateLimitReply(ctx, src, refused)] : [log]
  const what = src.commentId === undefined ? 'description' : 'comment'
  return [
    log,
    {
      type: 'comment',
      repo: ctx.repo,
      issue: ctx.event.issue.number,
      key: commentKey(src, 'too-long'),
      body: `${mention(ctx.event.author.login)}, this ${what} is too long to read commands from (${bytes} bytes; the limit is ${limit}), so none of its commands ran. Please post the commands in a shorter comment.`,
    },
  ]
}

function sameLogin(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase()
}

/**
 * Turns the slash commands in a newly created comment (or issue/PR body) into effects: replies for
 * unknown commands, denials, bad arguments and rate limits; each accepted command's own effects;
 * and a 👀 reaction on the comment. Edited and deleted comments, and the bot's own, do nothing; a
 * body longer than `commands.maxCommentBytes` is not parsed (see `tooLong`).
 *
 * @example
 *   const effects = await slashCommands.handle(event, ctx)
 */
export const slashCommands: CommentHandler = {
  name: 'slash-commands',
  async handle(event, ctx) {
    if (event.action !== 'created') return []
    if (sameLogin(event.author.login, ctx.botLogin)) return []
    const src: KeySource = { deliveryId: event.deliveryId, commentId: event.commentId }
    // Measured before any parsing: the Markdown parse is what a huge body would make slow.
    const bytes = utf8Bytes(event.body)
    if (bytes > ctx.config.maxCommentBytes) return tooLong(ctx, src, bytes)
    const parsed = parseCommands(event.body)
    if (parsed.length === 0) return []

    const max = ctx.config.maxCommandsPerComment
    const effects: Effect[] = []
    const unknown: ParsedCommand[] = []
    let accepted = 0
    let rateReplied = false
    let limited = false

    const rateLimited = (refused: RateDecision) => {
      limited = true
      // One polite reply per window (firstRefusal), and at most one per comment.
      if (refused.firstRefusal && !rateReplied) {
        rateReplied = true
        effects.push(rateLimitReply(ctx, src, refused))
      }
    }

    for (const command of parsed.slice(0, max)) {
      const hitId = `${src.deliveryId}:${src.commentId ?? 'body'}:${command.index}`
      // Unknown commands count against the user's limit too, so a flood of typos stays quiet.
      const userRefused = await userLimit(ctx, hitId)
      if (userRefused) {
        rateLimited(userRefused)
        continue
      }

      const spec = findCommand(ctx.commands, command.name)
      if (!spec) {
        unknown.push(command)
        continue
      }
      const cctx = commandContext(ctx, command, src)

      const verdict = await checkPermission(ctx, spec)
      if (!verdict.ok) {
        if (verdict.log) effects.push(verdict.log)
        effects.push(reply(cctx, 'denied', verdict.why))
        continue
      }

      const issueRefused = await issueLimit(ctx, hitId)
      if (issueRefused) {
        rateLimited(issueRefused)
        continue
      }

      const args = spec.args.safeParse(command.input)
      if (!args.success) {
        effects.push(
          reply(
            cctx,
            'bad-args',
            `\`/${spec.name}\`: ${inlineText(formatArgsError(args.error))}.\n\nUsage: ${codeSpan(spec.help.usage)} (see \`/help ${spec.name}\`).`,
          ),
        )
        continue
      }

      accepted++
      effects.push(...(await spec.handle(cctx, args.data)))
    }

    if (parsed.length > max && !limited) {
      effects.push({
        type: 'comment',
        repo: ctx.repo,
        issue: event.issue.number,
        key: commentKey(src, 'too-many'),
        body: `Only the first ${max} commands of a comment are run; ${parsed.length - max} more were ignored.`,
      })
    }
    if (unknown.length > 0) effects.push(unknownReply(ctx, unknown, src))
    if (accepted > 0) {
      // First, so the person sees the bot noticed before anything slower happens.
      effects.unshift({
        type: 'react',
        repo: ctx.repo,
        target:
          event.commentId !== undefined ? { commentId: event.commentId } : { issue: event.issue.number },
        reaction: 'eyes',
      })
    }
    return effects
  },
}
