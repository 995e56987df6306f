import { z } from 'zod'
import type { ToolSpec } from '../tool.js'
import { RepoArg, giteaOf, viaPort } from './gitea-args.js'
import { issueLine } from './gitea-get-issue.js'
import type { GiteaToolsIssue } from './gitea-tools-port.js'

export const GiteaListIssuesArgs = z
  .object({
    repo: RepoArg,
    state: z.enum(['open', 'closed', 'all']).default('open'),
    type: z.enum(['issues', 'pulls']).optional(),
    labels: z.array(z.string().min(1)).optional(),
    page: z.number().int().positive().default(1),
    limit: z.number().int().min(1).max(50).default(20),
  })
  .strict()

/**
 * `gitea_list_issues`: one page of issues or pull requests, filtered by state, type and labels.
 *
 * @example
 *   await giteaListIssues.run(GiteaListIssuesArgs.parse({ repo: 'org/app', labels: ['bug'] }), ctx)
 */
export const giteaListIssues: ToolSpec<typeof GiteaListIssuesArgs> = {
  name: 'gitea_list_issues',
  category: 'gitea',
  description: 'List one page of issues/pulls in a repo, by state, type and labels.',
  args: GiteaListIssuesArgs,
  access: 'read',
  timeoutMs: 15_000,
  target: (args) => `gitea:${args.repo.owner}/${args.repo.name}`,
  async run(args, ctx) {
    const { repo, ...opts } = args
    const issues = await viaPort('listIssues', () => giteaOf(ctx).listIssues(repo, opts))
    const output = issues.length ? issues.map(issueLine).join('\n') : 'no issues'
    return { output, data: { issues } }
  },
  async verify(_args, result) {
    const { issues } = result.data as { issues: GiteaToolsIssue[] }
    return {
      kind: 'gitea-read',
      summary: `${issues.length} issues`,
      detail: { numbers: issues.map((i) => i.number) },
    }
  },
}
