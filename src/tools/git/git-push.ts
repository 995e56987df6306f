import { z } from 'zod'
import { ToolError, type ToolSpec } from '../tool.js'
import { GitRemoteArg, resolveRemote } from './git-remote.js'
import { assertPushAllowed } from './push-guard.js'
import {
  type CheckedRepo,
  GitRefName,
  RepoPathArg,
  currentBranch,
  git,
  repoDigestOrUndefined,
  repoTarget,
  resolveRepo,
} from './git-repo.js'

export const GitPushArgs = z
  .object({
    repoPath: RepoPathArg,
    /** A remote configured in the checkout, or an http(s) URL that passes the network policy. */
    remote: GitRemoteArg.default('origin'),
    /**
     * Local branch to push to the same name on the remote; the current branch when absent. It must
     * be under the house's prefix (`toolSettings.git.branchPrefix`, default `uw/<house>/`).
     */
    branch: GitRefName.optional(),
    setUpstream: z.boolean().default(false),
  })
  .strict()

async function pushedBranch(
  repo: CheckedRepo,
  branch: string | undefined,
  ctx: Parameters<typeof git>[2],
): Promise<string> {
  const b = branch ?? (await currentBranch(repo, ctx))
  if (!b) throw new ToolError('HEAD is detached: name the branch to push')
  return b
}

/**
 * `git_push`: push a branch under the house's prefix (never forced, never tags, never the remote's
 * default branch or a branch Gitea protects: see assertPushAllowed). Verified by `git ls-remote`:
 * the remote's branch points at the local commit.
 *
 * @example
 *   await gitPush.run({ repoPath: 'app', remote: 'origin', branch: 'uw/bezalel/fix-typo' }, ctx)
 */
export const gitPush: ToolSpec<typeof GitPushArgs> = {
  name: 'git_push',
  category: 'git',
  description:
    "Push a branch under the house's prefix (uw/<house>/) to a remote (no force, never the default branch); verified by git ls-remote.",
  args: GitPushArgs,
  access: 'write',
  timeoutMs: 60_000,
  target: (args, ctx) => repoTarget(args.repoPath, ctx),
  // A push changes the remote, not HEAD or the working tree, so the repo digest is unchanged by it.
  targetDigest: (args, ctx) => repoDigestOrUndefined(args.repoPath, ctx),
  async run(args, ctx) {
    const repo = await resolveRepo(args.repoPath, ctx)
    const remote = await resolveRemote(repo, args.remote, 'push', ctx)
    const branch = await pushedBranch(repo, args.branch, ctx)
    // The name as a full ref must be one git accepts (GitRefName already refused option-like names,
    // `..`, `:` and the like), so the refspec below can only mean this one branch.
    await git(repo, ['check-ref-format', `refs/heads/${branch}`], ctx).catch(() => {
      throw new ToolError(`refused: "${branch}" is not a valid branch name`)
    })
    const local = (
      await git(repo, ['rev-parse', '--verify', '--end-of-options', `refs/heads/${branch}`], ctx)
    ).trim()
    await assertPushAllowed(repo, args.remote, remote, branch, ctx)
    await git(
      repo,
      [
        'push',
        '--porcelain',
        '--no-verify',
        '--recurse-submodules=no',
        '--no-follow-tags',
        ...(args.setUpstream ? ['--set-upstream'] : []),
        remote.arg,
        `refs/heads/${branch}:refs/heads/${branch}`,
      ],
      ctx,
      { config: remote.config },
    )
    return { output: `pushed ${branch} (${local.slice(0, 12)}) to ${args.remote}`, data: { branch, local } }
  },
  async verify(args, result, ctx) {
    const repo = await resolveRepo(args.repoPath, ctx)
    const { branch, local } = result.data as { branch: string; local: string }
    // ls-remote reads from the remote's fetch URL, so that is the URL to check and pin here.
    const remote = await resolveRemote(repo, args.remote, 'fetch', ctx)
    const line = (
      await git(repo, ['ls-remote', remote.arg, `refs/heads/${branch}`], ctx, { config: remote.config })
    ).trim()
    const remoteSha = line.split(/\s+/)[0]
    if (remoteSha !== local) return undefined
    return {
      kind: 'git-ls-remote',
      summary: `${args.remote}/${branch} is ${local.slice(0, 12)}`,
      detail: { remote: args.remote, branch, sha: local },
    }
  },
}
