import { z } from 'zod'
import { sha256Hex } from '../digest.js'
import type { ToolSpec } from '../tool.js'
import {
  IGNORE_SUBMODULES,
  RepoPathArg,
  git,
  headOf,
  repoDigestOrUndefined,
  repoTarget,
  resolveRepo,
} from './git-repo.js'

export const GitStatusArgs = z.object({ repoPath: RepoPathArg }).strict()

export interface GitStatusData {
  head: string
  branch: string | undefined
  upstream: string | undefined
  ahead: number
  behind: number
  clean: boolean
  changes: { code: string; path: string }[]
}

/** Parses `git status --porcelain=v2 --branch` output. */
export function parseStatusV2(text: string, head: string): GitStatusData {
  const d: GitStatusData = {
    head,
    branch: undefined,
    upstream: undefined,
    ahead: 0,
    behind: 0,
    clean: true,
    changes: [],
  }
  for (const line of text.split('\n')) {
    if (line.startsWith('# branch.head ')) {
      const b = line.slice(14)
      d.branch = b === '(detached)' ? undefined : b
    } else if (line.startsWith('# branch.upstream ')) d.upstream = line.slice(18)
    else if (line.startsWith('# branch.ab ')) {
      const m = /\+(\d+) -(\d+)/.exec(line)
      d.ahead = Number(m?.[1] ?? 0)
      d.behind = Number(m?.[2] ?? 0)
    } else if (line.startsWith('1 ') || line.startsWith('2 ') || line.startsWith('u ')) {
      const parts = line.split(' ')
      const fields = line.startsWith('1 ') ? 8 : line.startsWith('2 ') ? 9 : 10
      d.changes.push({ code: parts[1] as string, path: parts.slice(fields).join(' ') })
    } else if (line.startsWith('? ')) d.changes.push({ code: '??', path: line.slice(2) })
  }
  d.clean = d.changes.length === 0
  return d
}

/**
 * `git_status`: branch, upstream, ahead/behind and changed files of a repo in the workspace.
 *
 * @example
 *   await gitStatus.run({ repoPath: 'app' }, ctx) // data: { branch: 'main', clean: true, ... }
 */
export const gitStatus: ToolSpec<typeof GitStatusArgs> = {
  name: 'git_status',
  category: 'git',
  description: 'Branch, upstream, ahead/behind and changed files of a repository.',
  args: GitStatusArgs,
  access: 'read',
  timeoutMs: 15_000,
  target: (args, ctx) => repoTarget(args.repoPath, ctx),
  targetDigest: (args, ctx) => repoDigestOrUndefined(args.repoPath, ctx),
  async run(args, ctx) {
    const repo = await resolveRepo(args.repoPath, ctx)
    const [text, head, porcelain] = await Promise.all([
      git(repo, ['status', '--porcelain=v2', '--branch', IGNORE_SUBMODULES], ctx),
      headOf(repo, ctx),
      git(repo, ['status', '--porcelain=v1', '-z', IGNORE_SUBMODULES], ctx),
    ])
    const data = parseStatusV2(text, head)
    const ab = data.upstream ? ` [${data.upstream}: ahead ${data.ahead}, behind ${data.behind}]` : ''
    const output = [
      `on ${data.branch ?? `detached HEAD ${head.slice(0, 12)}`}${ab}`,
      ...(data.clean ? ['working tree clean'] : data.changes.map((c) => `${c.code} ${c.path}`)),
    ].join('\n')
    return { output, data, targetDigest: sha256Hex(`${head}\n${porcelain}`) }
  },
  async verify(_args, result) {
    const d = result.data as GitStatusData
    return {
      kind: 'git-status',
      summary: `HEAD ${d.head.slice(0, 12)}, ${d.changes.length} changes`,
      detail: { head: d.head, digest: result.targetDigest },
    }
  },
}
