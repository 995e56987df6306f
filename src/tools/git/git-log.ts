import { z } from 'zod'
import { sha256Hex } from '../digest.js'
import type { ToolSpec } from '../tool.js'
import { GitRefName, RepoPathArg, git, repoRelative, repoTarget, resolveRepo } from './git-repo.js'

export const GitLogArgs = z
  .object({
    repoPath: RepoPathArg,
    /** Revision to start from; HEAD when absent. */
    ref: GitRefName.optional(),
    maxCount: z.number().int().min(1).max(1000).default(20),
    /** Only commits touching this path (relative to the repo). */
    path: z.string().min(1).max(4096).optional(),
  })
  .strict()

export interface LogEntry {
  sha: string
  author: string
  email: string
  date: string
  subject: string
}

/**
 * `git_log`: the latest commits (sha, author, date, subject), optionally from a ref or for a path.
 *
 * @example
 *   await gitLog.run({ repoPath: 'app', maxCount: 5 }, ctx)
 */
export const gitLog: ToolSpec<typeof GitLogArgs> = {
  name: 'git_log',
  category: 'git',
  description: 'Recent commits (sha, author, date, subject), from a ref and/or for a path.',
  args: GitLogArgs,
  access: 'read',
  timeoutMs: 15_000,
  target: (args, ctx) => repoTarget(args.repoPath, ctx),
  async run(args, ctx) {
    const repo = await resolveRepo(args.repoPath, ctx)
    const argv = [
      'log',
      `--max-count=${args.maxCount}`,
      '--format=%H%x1f%an%x1f%ae%x1f%aI%x1f%s%x1e',
      '--end-of-options',
    ]
    argv.push(args.ref ?? 'HEAD', '--')
    if (args.path) argv.push(repoRelative(repo, args.path))
    const text = await git(repo, argv, ctx)
    const commits: LogEntry[] = text
      .split('\x1e')
      .map((r) => r.trim())
      .filter(Boolean)
      .map((r) => {
        const [sha = '', author = '', email = '', date = '', subject = ''] = r.split('\x1f')
        return { sha, author, email, date, subject }
      })
    const output = commits.map((c) => `${c.sha.slice(0, 12)} ${c.date} ${c.author}: ${c.subject}`).join('\n')
    return { output, data: { commits } }
  },
  async verify(_args, result) {
    const { commits } = result.data as { commits: LogEntry[] }
    return {
      kind: 'git-log',
      summary: `${commits.length} commits`,
      detail: { first: commits[0]?.sha, sha256: sha256Hex(result.output) },
    }
  },
}
