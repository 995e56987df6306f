import { z } from 'zod'
import type { ToolSpec } from '../tool.js'
import {
  GitRefName,
  RepoPathArg,
  currentBranch,
  git,
  headOf,
  repoDigest,
  repoDigestOrUndefined,
  repoTarget,
  resolveRepo,
} from './git-repo.js'

export const GitCheckoutArgs = z
  .object({
    repoPath: RepoPathArg,
    /** Branch, tag or commit to check out; the new branch's name with `create`. */
    ref: GitRefName,
    /** Create the branch `ref` (from `startPoint` or HEAD) and switch to it. */
    create: z.boolean().default(false),
    startPoint: GitRefName.optional(),
  })
  .strict()

/**
 * `git_checkout`: switch to a branch, tag or commit, or create a branch. Verified by
 * `git rev-parse HEAD` equal to the ref's commit (and the branch checked out).
 *
 * @example
 *   await gitCheckout.run({ repoPath: 'app', ref: 'feature/x', create: true }, ctx)
 */
export const gitCheckout: ToolSpec<typeof GitCheckoutArgs> = {
  name: 'git_checkout',
  category: 'git',
  description: 'Check out a branch, tag or commit, or create a branch; verified by rev-parse HEAD.',
  args: GitCheckoutArgs,
  access: 'write',
  timeoutMs: 30_000,
  target: (args, ctx) => repoTarget(args.repoPath, ctx),
  targetDigest: (args, ctx) => repoDigestOrUndefined(args.repoPath, ctx),
  async run(args, ctx) {
    const repo = await resolveRepo(args.repoPath, ctx)
    if (args.create) {
      await git(repo, ['check-ref-format', '--branch', args.ref], ctx)
      await git(
        repo,
        [
          'checkout',
          '--no-recurse-submodules',
          '-b',
          args.ref,
          ...(args.startPoint ? [args.startPoint] : []),
          '--',
        ],
        ctx,
      )
    } else {
      // The trailing "--" makes git read `ref` as a revision, never as a path.
      await git(repo, ['checkout', '--no-recurse-submodules', args.ref, '--'], ctx)
    }
    const head = await headOf(repo, ctx)
    const branch = await currentBranch(repo, ctx)
    return {
      output: `HEAD is now ${head.slice(0, 12)}${branch ? ` on ${branch}` : ' (detached)'}`,
      data: { head, branch },
      targetDigest: await repoDigest(repo, ctx),
    }
  },
  async verify(args, _result, ctx) {
    const repo = await resolveRepo(args.repoPath, ctx)
    const head = await headOf(repo, ctx)
    const want = (
      await git(repo, ['rev-parse', '--verify', '--end-of-options', `${args.ref}^{commit}`], ctx)
    ).trim()
    if (head !== want) return undefined
    const branch = await currentBranch(repo, ctx)
    if (args.create && branch !== args.ref) return undefined
    return {
      kind: 'git-rev-parse',
      summary: `HEAD is ${head.slice(0, 12)}`,
      detail: { head, ref: args.ref, branch },
    }
  },
}
