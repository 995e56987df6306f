import { z } from 'zod'
import type { ToolSpec } from '../tool.js'
import { RepoPathArg, git, repoTarget, resolveRepo } from './git-repo.js'

export const GitBranchListArgs = z
  .object({ repoPath: RepoPathArg, remotes: z.boolean().default(false) })
  .strict()

export interface BranchRow {
  name: string
  sha: string
  upstream: string | undefined
  current: boolean
}

/**
 * `git_branch_list`: local branches (and remote-tracking ones with `remotes`), with their commit,
 * upstream and which one is checked out.
 *
 * @example
 *   await gitBranchList.run({ repoPath: 'app', remotes: true }, ctx)
 */
export const gitBranchList: ToolSpec<typeof GitBranchListArgs> = {
  name: 'git_branch_list',
  category: 'git',
  description: 'Local (and optionally remote-tracking) branches with commit, upstream and the current one.',
  args: GitBranchListArgs,
  access: 'read',
  timeoutMs: 15_000,
  target: (args, ctx) => repoTarget(args.repoPath, ctx),
  async run(args, ctx) {
    const repo = await resolveRepo(args.repoPath, ctx)
    const refs = ['refs/heads', ...(args.remotes ? ['refs/remotes'] : [])]
    const text = await git(
      repo,
      ['for-each-ref', '--format=%(refname:short)%00%(objectname)%00%(upstream:short)%00%(HEAD)', ...refs],
      ctx,
    )
    const branches: BranchRow[] = text
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [name = '', sha = '', upstream = '', head = ''] = line.split('\0')
        return { name, sha, upstream: upstream || undefined, current: head === '*' }
      })
    const output = branches
      .map(
        (b) =>
          `${b.current ? '*' : ' '} ${b.name} ${b.sha.slice(0, 12)}${b.upstream ? ` -> ${b.upstream}` : ''}`,
      )
      .join('\n')
    return { output, data: { branches } }
  },
  async verify(_args, result) {
    const { branches } = result.data as { branches: BranchRow[] }
    return {
      kind: 'git-for-each-ref',
      summary: `${branches.length} branches`,
      detail: { branches: Object.fromEntries(branches.map((b) => [b.name, b.sha])) },
    }
  },
}
