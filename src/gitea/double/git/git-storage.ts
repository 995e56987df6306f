import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CommitInfo } from '../render.js'

/** A file change for `commitFiles`: new content, or null to delete the file. */
export type SeedFiles = Record<string, string | null>

export interface CommitOptions {
  /** Branch to commit on; default the repository's default branch. Created when missing. */
  branch?: string
  /** Parent of a new branch's first commit: a branch or sha. Default the default branch's head. */
  from?: string
  author?: { name: string; email: string }
  /** Commit date (ISO); default a fixed date so seeded shas are stable. */
  date?: string
}

const ZERO_SHA = '0000000000000000000000000000000000000000'

// Gitea's pre-receive checks that matter to the bot (routers/private/hook_pre_receive.go):
// write permission, protected branches, and the default branch cannot be deleted. Gitea runs
// them in its pre-receive hook, so a refused push reaches the client as "pre-receive hook
// declined" with the reason on a `remote:` line, not as an HTTP status.
const PRE_RECEIVE = `#!/bin/sh
if [ "$UW_DOUBLE_CAN_WRITE" != "1" ]; then
  echo "Gitea: User permission denied for writing."
  exit 1
fi
status=0
while read -r old new ref; do
  case "$ref" in refs/heads/*) branch="\${ref#refs/heads/}" ;; *) continue ;; esac
  if [ "$new" = "${ZERO_SHA}" ] && [ "$branch" = "$UW_DOUBLE_DEFAULT_BRANCH" ]; then
    echo "Gitea: branch $branch is the default branch and cannot be deleted"
    status=1
  fi
  for p in $UW_DOUBLE_PROTECTED; do
    if [ "$p" = "$branch" ]; then
      echo "Gitea: Not allowed to push to protected branch $branch"
      status=1
    fi
  done
done
exit $status
`

/**
 * The double's git storage: one bare repository per hosted Gitea repository under a root
 * directory (`<root>/<owner>/<name>.git`, lower-cased like Gitea's), plus the hooks directory
 * with the pre-receive checks. Every git command runs with no system or global config.
 *
 * @example
 *   const storage = new GitStorage()
 *   storage.init('alice', 'demo', 'main')
 *   const sha = storage.commitFiles('alice', 'demo', 'main', { 'README.md': '# demo\n' }, 'Initial commit')
 */
export class GitStorage {
  readonly root: string
  readonly hooksPath: string
  private readonly owned: boolean

  constructor(root?: string) {
    this.owned = root === undefined
    this.root = root ?? mkdtempSync(join(tmpdir(), 'gitea-double-git-'))
    mkdirSync(this.root, { recursive: true })
    this.hooksPath = mkdtempSync(join(tmpdir(), 'gitea-double-hooks-'))
    const hook = join(this.hooksPath, 'pre-receive')
    writeFileSync(hook, PRE_RECEIVE)
    chmodSync(hook, 0o755)
  }

  /** Where a repository lives, relative to the root (`/alice/demo.git`). */
  relativePath(owner: string, name: string): string {
    return `/${owner.toLowerCase()}/${name.toLowerCase()}.git`
  }

  gitDir(owner: string, name: string): string {
    return join(this.root, this.relativePath(owner, name))
  }

  init(owner: string, name: string, defaultBranch: string): string {
    const dir = this.gitDir(owner, name)
    mkdirSync(dir, { recursive: true })
    this.git(dir, ['init', '--quiet', '--bare', `--initial-branch=${defaultBranch}`])
    return dir
  }

  /** `refs/heads/*` → commit sha. */
  branches(owner: string, name: string): Map<string, string> {
    const out = this.git(this.gitDir(owner, name), [
      'for-each-ref',
      '--format=%(objectname) %(refname)',
      'refs/heads/',
    ])
    const map = new Map<string, string>()
    for (const line of out.split('\n')) {
      const [sha, ref] = line.split(' ')
      if (sha && ref?.startsWith('refs/heads/')) map.set(ref.slice('refs/heads/'.length), sha)
    }
    return map
  }

  /** The commit a branch, tag or sha names, or undefined. */
  resolve(owner: string, name: string, rev: string): string | undefined {
    if (rev.startsWith('-')) return undefined
    try {
      return this.git(this.gitDir(owner, name), [
        'rev-parse',
        '--verify',
        '--quiet',
        `${rev}^{commit}`,
      ]).trim()
    } catch {
      return undefined
    }
  }

  /** A commit's message, people and committer date. */
  commitInfo(owner: string, name: string, sha: string): CommitInfo {
    const out = this.git(this.gitDir(owner, name), [
      'show',
      '-s',
      '--format=%an%x00%ae%x00%cn%x00%ce%x00%cI%x00%B',
      sha,
    ])
    const [an = '', ae = '', cn = '', ce = '', date = '', ...message] = out.split('\0')
    return {
      sha,
      message: message.join('\0').replace(/\n+$/, '\n'),
      author: { name: an, email: ae },
      committer: { name: cn, email: ce },
      timestamp: date,
    }
  }

  /** The merge base of two commits, or undefined when they share no history. */
  mergeBase(owner: string, name: string, a: string, b: string): string | undefined {
    try {
      return this.git(this.gitDir(owner, name), ['merge-base', a, b]).trim() || undefined
    } catch {
      return undefined
    }
  }

  /** Files changed from `base` to `head`: name, Gitea's status word, additions, deletions. */
  changedFiles(
    owner: string,
    name: string,
    base: string,
    head: string,
  ): { filename: string; status: string; additions: number; deletions: number }[] {
    const dir = this.gitDir(owner, name)
    const numstat = this.git(dir, ['diff', '--no-renames', '--numstat', '-z', base, head]).split('\0')
    const names = this.git(dir, ['diff', '--no-renames', '--name-status', '-z', base, head]).split('\0')
    const statusOf = new Map<string, string>()
    for (let i = 0; i + 1 < names.length; i += 2) {
      const code = names[i] ?? ''
      statusOf.set(names[i + 1] ?? '', code === 'A' ? 'added' : code === 'D' ? 'deleted' : 'modified')
    }
    return numstat.flatMap((line) => {
      const m = /^(\d+|-)\t(\d+|-)\t(.+)$/.exec(line)
      if (!m) return []
      const filename = m[3] ?? ''
      return [
        {
          filename,
          status: statusOf.get(filename) ?? 'modified',
          additions: Number(m[1]) || 0,
          deletions: Number(m[2]) || 0,
        },
      ]
    })
  }

  /** Writes one commit on a branch with plumbing (no work tree) and returns its sha. */
  commitFiles(
    owner: string,
    name: string,
    defaultBranch: string,
    files: SeedFiles,
    message: string,
    opts: CommitOptions = {},
  ): string {
    const dir = this.gitDir(owner, name)
    const branch = opts.branch ?? defaultBranch
    const current = this.resolve(owner, name, `refs/heads/${branch}`)
    const parent = current ?? this.resolve(owner, name, opts.from ?? `refs/heads/${defaultBranch}`)
    const index = join(
      this.hooksPath,
      `index-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    )
    const env = { GIT_INDEX_FILE: index }
    try {
      if (parent) this.git(dir, ['read-tree', parent], env)
      else this.git(dir, ['read-tree', '--empty'], env)
      for (const [path, content] of Object.entries(files)) {
        if (content === null) {
          this.git(dir, ['update-index', '--force-remove', '--', path], env)
          continue
        }
        const blob = this.git(dir, ['hash-object', '-w', '--stdin'], {}, content).trim()
        this.git(dir, ['update-index', '--add', '--cacheinfo', `100644,${blob},${path}`], env)
      }
      const tree = this.git(dir, ['write-tree'], env).trim()
      const author = opts.author ?? { name: 'Gitea Double', email: 'double@gitea.test' }
      const date = opts.date ?? '2026-07-20T09:00:00Z'
      const sha = this.git(dir, ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', message], {
        GIT_AUTHOR_NAME: author.name,
        GIT_AUTHOR_EMAIL: author.email,
        GIT_AUTHOR_DATE: date,
        GIT_COMMITTER_NAME: author.name,
        GIT_COMMITTER_EMAIL: author.email,
        GIT_COMMITTER_DATE: date,
      }).trim()
      this.git(dir, ['update-ref', `refs/heads/${branch}`, sha, current ?? ZERO_SHA])
      return sha
    } finally {
      rmSync(index, { force: true })
    }
  }

  /** Removes the hooks directory, and the root when the storage made it. */
  dispose(): void {
    rmSync(this.hooksPath, { recursive: true, force: true })
    if (this.owned) rmSync(this.root, { recursive: true, force: true })
  }

  private git(dir: string, args: string[], env: Record<string, string> = {}, input?: string): string {
    return execFileSync('git', args, {
      cwd: dir,
      input,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_DIR: dir,
        ...env,
      },
    })
  }
}
