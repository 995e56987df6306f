import { z } from 'zod'
import type { ToolSpec } from '../tool.js'
import { IssueIndex, RepoArg, giteaOf, viaPort } from './gitea-args.js'
import type { GiteaToolsIssue } from './gitea-tools-port.js'

export const GiteaGetIssueArgs = z.object({ repo: RepoArg, index: IssueIndex }).strict()

/** One line per issue, for tool output. */
export function issueLine(i: GiteaToolsIssue): string {
  const labels = i.labels.length ? ` [${i.labels.map((l) => l.name).join(', ')}]` : ''
  return `#${i.number} (${i.state}${i.isPull ? ', pull' : ''}) ${i.title}${labels} — ${i.user.login}`
}

/**
 * `gitea_get_issue`: one issue or pull request through the Gitea port.
 *
 * @example
 *   await giteaGetIssue.run(GiteaGetIssueArgs.parse({ repo: 'org/app', index: 7 }), ctx)
 */
export const giteaGetIssue: ToolSpec<typeof GiteaGetIssueArgs> = {
  name: 'gitea_get_issue',
  category: 'gitea',
  description: 'Get an issue or pull request (title, state, labels, body) from Gitea.',
  args: GiteaGetIssueArgs,
  access: 'read',
  timeoutMs: 15_000,
  target: (args) => `gitea:${args.repo.owner}/${args.repo.name}#${args.index}`,
  async run(args, ctx) {
    const issue = await viaPort('getIssue', () => giteaOf(ctx).getIssue(args.repo, args.index))
    return { output: `${issueLine(issue)}\n${issue.htmlUrl}\n\n${issue.body}`, data: issue }
  },
  async verify(_args, result) {
    const i = result.data as GiteaToolsIssue
    return {
      kind: 'gitea-read',
      summary: `read #${i.number}`,
      detail: { number: i.number, state: i.state, htmlUrl: i.htmlUrl },
    }
  },
}
