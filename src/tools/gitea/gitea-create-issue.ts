import { z } from 'zod'
import type { ToolSpec } from '../tool.js'
import { RepoArg, giteaOf, viaPort } from './gitea-args.js'
import type { GiteaToolsIssue } from './gitea-tools-port.js'

export const GiteaCreateIssueArgs = z
  .object({
    repo: RepoArg,
    title: z.string().min(1).max(255),
    body: z.string().max(65_536).optional(),
    /** Label ids. */
    labels: z.array(z.number().int().positive()).optional(),
    assignees: z.array(z.string().min(1)).optional(),
  })
  .strict()

/**
 * `gitea_create_issue`: open an issue. Verified by reading it back by number: the title matches.
 *
 * @example
 *   await giteaCreateIssue.run(GiteaCreateIssueArgs.parse({ repo: 'org/app', title: 'Disk at 91%' }), ctx)
 */
export const giteaCreateIssue: ToolSpec<typeof GiteaCreateIssueArgs> = {
  name: 'gitea_create_issue',
  category: 'gitea',
  description: 'Open an issue in a repo; verified by reading it back.',
  args: GiteaCreateIssueArgs,
  access: 'write',
  timeoutMs: 15_000,
  target: (args) => `gitea:${args.repo.owner}/${args.repo.name}`,
  async run(args, ctx) {
    const { repo, ...input } = args
    const issue = await viaPort('createIssue', () => giteaOf(ctx).createIssue(repo, input))
    return { output: `opened #${issue.number}: ${issue.htmlUrl}`, data: issue }
  },
  async verify(args, result, ctx) {
    const created = result.data as GiteaToolsIssue
    const back = await viaPort('getIssue', () => giteaOf(ctx).getIssue(args.repo, created.number))
    if (back.title !== args.title) return undefined
    return {
      kind: 'gitea-readback',
      summary: `#${back.number} exists`,
      detail: { number: back.number, htmlUrl: back.htmlUrl, state: back.state },
    }
  },
}
