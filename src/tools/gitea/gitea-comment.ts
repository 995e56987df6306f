import { z } from 'zod'
import type { ToolSpec } from '../tool.js'
import { IssueIndex, RepoArg, giteaOf, viaPort } from './gitea-args.js'
import type { GiteaToolsComment } from './gitea-tools-port.js'

export const GiteaCommentArgs = z
  .object({ repo: RepoArg, index: IssueIndex, body: z.string().min(1).max(65_536) })
  .strict()

/**
 * `gitea_comment`: comment on an issue or pull request. Verified by finding the comment, with the
 * same body, in the issue's comments.
 *
 * @example
 *   await giteaComment.run(GiteaCommentArgs.parse({ repo: 'org/app', index: 7, body: 'Done.' }), ctx)
 */
export const giteaComment: ToolSpec<typeof GiteaCommentArgs> = {
  name: 'gitea_comment',
  category: 'gitea',
  description: 'Comment on an issue or pull request; verified by reading the comments back.',
  args: GiteaCommentArgs,
  access: 'write',
  timeoutMs: 15_000,
  target: (args) => `gitea:${args.repo.owner}/${args.repo.name}#${args.index}`,
  async run(args, ctx) {
    const c = await viaPort('createComment', () =>
      giteaOf(ctx).createComment(args.repo, args.index, args.body),
    )
    return { output: `commented: ${c.htmlUrl}`, data: c }
  },
  async verify(args, result, ctx) {
    const c = result.data as GiteaToolsComment
    const all = await viaPort('listComments', () => giteaOf(ctx).listComments(args.repo, args.index))
    const found = all.find((x) => x.id === c.id)
    if (!found || found.body !== args.body) return undefined
    return {
      kind: 'gitea-readback',
      summary: `comment ${c.id} exists`,
      detail: { id: c.id, htmlUrl: c.htmlUrl },
    }
  },
}
