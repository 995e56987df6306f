import { permits, type PermissionLevel } from '../../commands-core/permission.js'
import { sanitizeForPrompt, type SanitizeOptions } from './sanitize-for-prompt.js'

/** Who wrote a text, as Gitea reports it (`type` where the port exposes Gitea's user type). */
export interface PromptAuthor {
  login: string
  type?: string
}

/** An issue or pull request as the prompt needs it (a `GiteaIssue` fits). */
export interface PromptIssue {
  title: string
  body: string
  user: PromptAuthor
}

/** A comment as the prompt needs it (a `GiteaComment` fits). */
export interface PromptComment {
  body: string
  user: PromptAuthor
}

/** A kept text, sanitised. */
export interface KeptText {
  author: string
  text: string
}

/** What may reach a prompt of an issue's conversation, and what was left out. */
export interface PromptConversation {
  /** The issue's title and body, when their author has write access. */
  issue?: { author: string; title: string; body: string }
  /** Why the issue's own text was left out, when it was. */
  issueLeftOut?: 'no-write-access' | 'bot'
  comments: KeptText[]
  leftOut: { noWriteAccess: number; bots: number }
  /** The sentence the prompt carries about what was left out ('' when nothing was). */
  note: string
}

/** Options of `promptComments`. */
export interface PromptCommentsOptions extends SanitizeOptions {
  /** The bot's own login: its comments never reach a prompt. */
  botLogin?: string
}

/**
 * Whether a login is a bot's: the bot itself, a `…[bot]` app account, or Gitea's user type `bot`.
 *
 * @example
 *   isBotAuthor({ login: 'renovate[bot]' }, 'uni-wizard') // true
 */
export function isBotAuthor(author: PromptAuthor, botLogin?: string): boolean {
  const login = author.login.toLowerCase()
  return (
    (botLogin !== undefined && login === botLogin.toLowerCase()) ||
    login.endsWith('[bot]') ||
    author.type?.toLowerCase() === 'bot'
  )
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`

/**
 * The part of an issue's conversation that may reach a prompt, as Copilot's agent does: only
 * text by users with write access (the issue's title and body too, only if its author has it),
 * never a bot's; every kept text sanitised. What was left out is counted, and `note` says so in
 * words the prompt carries. A permission lookup that fails throws (the job is retried): it never
 * lets a text through.
 *
 * @example
 *   const c = await promptComments(issue, comments, (login) => ctx.permissions(login), { botLogin })
 *   c.note // '3 comments by users without write access were left out.'
 */
export async function promptComments(
  issue: PromptIssue,
  comments: readonly PromptComment[],
  permissionOf: (login: string) => Promise<PermissionLevel>,
  options: PromptCommentsOptions = {},
): Promise<PromptConversation> {
  const cache = new Map<string, Promise<boolean>>()
  const writer = (login: string): Promise<boolean> => {
    const key = login.toLowerCase()
    let p = cache.get(key)
    if (!p) {
      p = permissionOf(login).then((level) => permits(level, 'write'))
      cache.set(key, p)
    }
    return p
  }
  const sanitize = (text: string) => sanitizeForPrompt(text, options)

  let issueText: PromptConversation['issue']
  let issueLeftOut: PromptConversation['issueLeftOut']
  if (isBotAuthor(issue.user, options.botLogin)) issueLeftOut = 'bot'
  else if (!(await writer(issue.user.login))) issueLeftOut = 'no-write-access'
  else issueText = { author: issue.user.login, title: sanitize(issue.title), body: sanitize(issue.body) }

  const kept: KeptText[] = []
  const leftOut = { noWriteAccess: 0, bots: 0 }
  for (const c of comments) {
    if (isBotAuthor(c.user, options.botLogin)) leftOut.bots++
    else if (!(await writer(c.user.login))) leftOut.noWriteAccess++
    else kept.push({ author: c.user.login, text: sanitize(c.body) })
  }

  const said: string[] = []
  if (issueLeftOut === 'no-write-access')
    said.push("The issue's title and body were left out: their author has no write access.")
  if (issueLeftOut === 'bot') said.push("The issue's title and body were left out: a bot wrote them.")
  if (leftOut.noWriteAccess > 0)
    said.push(
      `${plural(leftOut.noWriteAccess, 'comment by a user', 'comments by users')} without write access ${leftOut.noWriteAccess === 1 ? 'was' : 'were'} left out.`,
    )
  if (leftOut.bots > 0)
    said.push(`${plural(leftOut.bots, 'comment by a bot was', 'comments by bots were')} left out.`)
  return {
    ...(issueText ? { issue: issueText } : {}),
    ...(issueLeftOut ? { issueLeftOut } : {}),
    comments: kept,
    leftOut,
    note: said.join(' '),
  }
}
