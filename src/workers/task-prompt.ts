import { buildPrompt, promptComments } from '../agents/prompt/index.js'
import type { AgentTaskKind } from '../agents/task-kind.js'
import type { GiteaPort } from '../gitea/port.js'
import type { JobRecord } from '../jobs/job-store.js'
import type { TaskCheckout, TaskPrompt } from './agent-job.js'

/** The Gitea reads a task's prompt needs. */
export type PromptPort = Pick<GiteaPort, 'getIssue' | 'listComments' | 'getCollaboratorPermission'>

/**
 * Builds an agent task's prompt from its issue (docs/AGENTS.md, "What reaches a prompt"): the
 * issue's and comments' text only where their author has write access (bots never), sanitised
 * and with every secret scrubbed, in fenced untrusted blocks; the command's own text; for a
 * review the pull request's diff.
 *
 * @example
 *   const prompt = taskPrompter({ port, botLogin: 'uw-bot', house: { name: 'ezra', role: 'archivist' }, secrets })
 */
export function taskPrompter(opts: {
  port: PromptPort
  botLogin: string | undefined
  house: { name: string; role?: string }
  secrets: readonly (string | undefined)[]
}): (
  kind: AgentTaskKind,
  rec: JobRecord,
  co: TaskCheckout | undefined,
  diff: string | undefined,
) => Promise<TaskPrompt> {
  return async (kind, rec, co, diff) => {
    const repo = rec.origin.repo
    const [issue, comments] = await Promise.all([
      opts.port.getIssue(repo, rec.origin.issue),
      opts.port.listComments(repo, rec.origin.issue),
    ])
    const conversation = await promptComments(
      issue,
      comments,
      (login) => opts.port.getCollaboratorPermission(repo, login),
      { ...(opts.botLogin !== undefined ? { botLogin: opts.botLogin } : {}) },
    )
    const built = buildPrompt(kind, {
      house: opts.house,
      repo: `${repo.owner}/${repo.name}`,
      number: rec.origin.issue,
      ...(co ? { commit: co.commit } : {}),
      conversation,
      request: { author: rec.requester.login, text: rec.args.text ?? '' },
      ...(diff !== undefined ? { diff } : {}),
      secrets: opts.secrets,
    })
    // The pull request of an implementation is named after the issue (its title, when a writer wrote it).
    const title = conversation.issue?.title ?? `Implement #${rec.origin.issue}`
    return { instructions: built.instructions, input: built.input, title }
  }
}
