import { z } from 'zod'
import { ToolError, type ToolSpec } from '../tool.js'
import {
  GitRefName,
  RepoPathArg,
  currentBranch,
  git,
  gitFailure,
  gitRaw,
  headOf,
  repoDigest,
  repoDigestOrUndefined,
  repoRelative,
  repoTarget,
  resolveRepo,
} from './git-repo.js'

export const GitCommitArgs = z
  .object({
    repoPath: RepoPathArg,
    message: z.string().min(1).max(10_000),
    /** Paths to stage first (relative to the repo); one path may be given as a string (`/run ... paths=a.txt`). */
    paths: z.preprocess(
      (v) => (typeof v === 'string' ? [v] : v),
      z.array(z.string().min(1).max(4096)).max(1000).optional(),
    ),
    /** Stage every tracked, modified file (`git commit -a`). */
    all: z.boolean().default(false),
    allowEmpty: z.boolean().default(false),
    /**
     * Commit on this branch: created at HEAD when it does not exist yet, switched to first
     * otherwise (the changes come along). A job's checkout starts on a detached HEAD, so this is
     * how work gets a branch `git_push` can push.
     */
    branch: GitRefName.optional(),
  })
  .strict()

/**
 * `git_commit`: stages the given paths (or all tracked changes) and commits. Verified by
 * `git rev-parse HEAD`: a new commit whose parent is the old HEAD and whose subject is the message.
 *
 * @example
 *   await gitCommit.run({ repoPath: 'app', message: 'Fix typo', paths: ['README.md'] }, ctx)
 */
export const gitCommit: ToolSpec<typeof GitCommitArgs> = {
  name: 'git_commit',
  category: 'git',
  description:
    'Stage paths (or all tracked changes) and commit with a message, on a branch when named (created at HEAD if new); verified by rev-parse HEAD.',
  args: GitCommitArgs,
  access: 'write',
  timeoutMs: 30_000,
  target: (args, ctx) => repoTarget(args.repoPath, ctx),
  targetDigest: (args, ctx) => repoDigestOrUndefined(args.repoPath, ctx),
  async run(args, ctx) {
    const repo = await resolveRepo(args.repoPath, ctx)
    if (args.branch && (await currentBranch(repo, ctx)) !== args.branch) {
      const branch = args.branch
      await git(repo, ['check-ref-format', `refs/heads/${branch}`], ctx).catch(() => {
        throw new ToolError(`refused: "${branch}" is not a valid branch name`)
      })
      const ref = `refs/heads/${branch}`
      const exists =
        (await gitRaw(repo, ['rev-parse', '--verify', '--quiet', '--end-of-options', ref], ctx)).code === 0
      await git(repo, ['switch', '--quiet', ...(exists ? [] : ['--create']), branch], ctx)
    }
    const before = await headOf(repo, ctx)
    if (args.paths && args.paths.length > 0) {
      await git(repo, ['add', '--', ...args.paths.map((p) => repoRelative(repo, p))], ctx)
    }
    const argv = [
      'commit',
      '--no-verify',
      '--file=-',
      ...(args.all ? ['--all'] : []),
      ...(args.allowEmpty ? ['--allow-empty'] : []),
    ]
    const r = await gitRaw(repo, argv, ctx, { input: args.message })
    if (r.code !== 0) {
      const text = `${r.stdout}\n${r.stderr}`
      if (/nothing (added )?to commit|no changes added/i.test(text)) throw new ToolError('nothing to commit')
      const failure = await gitFailure(repo, argv, r)
      throw new ToolError(`git commit failed: ${text.trim().slice(-2000)}`, failure.transient, {
        fault: failure.fault,
      })
    }
    const after = await headOf(repo, ctx)
    return {
      output: `committed ${after.slice(0, 12)} (parent ${before.slice(0, 12)})`,
      data: { before, commit: after },
      targetDigest: await repoDigest(repo, ctx),
    }
  },
  async verify(args, result, ctx) {
    const repo = await resolveRepo(args.repoPath, ctx)
    const { before, commit } = result.data as { before: string; commit: string }
    const head = await headOf(repo, ctx)
    if (head !== commit || head === before) return undefined
    const [parent, subject] = (await git(repo, ['log', '-1', '--format=%P%x00%s', head], ctx))
      .trim()
      .split('\0')
    if (before !== 'none' && !(parent ?? '').split(' ').includes(before)) return undefined
    const firstLine = args.message.split('\n')[0]?.trim()
    if (subject !== firstLine) return undefined
    return {
      kind: 'git-rev-parse',
      summary: `HEAD is ${head.slice(0, 12)}`,
      detail: { head, parent: before, subject },
    }
  },
}
