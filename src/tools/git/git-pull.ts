import { z } from 'zod'
import type { ToolSpec } from '../tool.js'
import { GitRemoteArg, resolveRemote } from './git-remote.js'
import {
  GitRefName,
  RepoPathArg,
  git,
  gitRaw,
  headOf,
  repoDigest,
  repoDigestOrUndefined,
  repoTarget,
  resolveRepo,
} from './git-repo.js'

export const GitPullArgs = z
  .object({
    repoPath: RepoPathArg,
    /** A remote configured in the checkout, or an http(s) URL that passes the network policy. */
    remote: GitRemoteArg.default('origin'),
    /** Remote branch; the current branch's upstream when absent. */
    branch: GitRefName.optional(),
    /** Refuse to create a merge commit (default); false merges. */
    ffOnly: z.boolean().default(true),
  })
  .strict()

/**
 * `git_pull`: fetch and fast-forward (or merge) from a remote. Verified by `git rev-parse HEAD`:
 * the fetched commit (FETCH_HEAD) is HEAD or an ancestor of it.
 *
 * @example
 *   await gitPull.run({ repoPath: 'app' }, ctx)
 */
export const gitPull: ToolSpec<typeof GitPullArgs> = {
  name: 'git_pull',
  category: 'git',
  description:
    'Fetch and fast-forward (or merge) from a remote; verified by rev-parse HEAD against FETCH_HEAD.',
  args: GitPullArgs,
  access: 'write',
  timeoutMs: 60_000,
  target: (args, ctx) => repoTarget(args.repoPath, ctx),
  targetDigest: (args, ctx) => repoDigestOrUndefined(args.repoPath, ctx),
  async run(args, ctx) {
    const repo = await resolveRepo(args.repoPath, ctx)
    const remote = await resolveRemote(repo, args.remote, 'fetch', ctx)
    const before = await headOf(repo, ctx)
    const mode = args.ffOnly ? '--ff-only' : '--no-rebase'
    // --no-recurse-submodules: `.gitmodules` (repository content) may ask for a recursive fetch from
    // URLs nobody checked; the command line wins over it.
    await git(
      repo,
      [
        'pull',
        mode,
        '--no-edit',
        '--no-recurse-submodules',
        remote.arg,
        ...(args.branch ? [args.branch] : []),
      ],
      ctx,
      { config: remote.config },
    )
    const after = await headOf(repo, ctx)
    const fetched = (await git(repo, ['rev-parse', '--verify', 'FETCH_HEAD^{commit}'], ctx)).trim()
    return {
      output:
        before === after
          ? `already up to date at ${after.slice(0, 12)}`
          : `updated ${before.slice(0, 12)}..${after.slice(0, 12)}`,
      data: { before, after, fetched },
      targetDigest: await repoDigest(repo, ctx),
    }
  },
  async verify(args, result, ctx) {
    const repo = await resolveRepo(args.repoPath, ctx)
    const { fetched, before } = result.data as { fetched: string; before: string }
    const head = await headOf(repo, ctx)
    const contains = await gitRaw(repo, ['merge-base', '--is-ancestor', fetched, head], ctx)
    if (contains.code !== 0) return undefined
    return {
      kind: 'git-rev-parse',
      summary: `HEAD ${head.slice(0, 12)} contains ${fetched.slice(0, 12)}`,
      detail: { before, head, fetched },
    }
  },
}
