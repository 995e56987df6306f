import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Makes the sandbox's house workspace a small git repository (once), so `/run git_status` and
 * the file tools have something real to work on without touching the bot's own checkout.
 *
 * @example
 *   seedSandboxWorkspace('.data/workspace')
 */
export function seedSandboxWorkspace(dir: string): void {
  mkdirSync(dir, { recursive: true })
  if (existsSync(join(dir, '.git'))) return
  const git = (...args: string[]) =>
    execFileSync(
      'git',
      ['-c', 'user.name=uni-wizard sandbox', '-c', 'user.email=sandbox@localhost', ...args],
      {
        cwd: dir,
        stdio: 'ignore',
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
      },
    )
  git('init', '-q')
  git('checkout', '-q', '-b', 'main')
  writeFileSync(
    join(dir, 'README.md'),
    '# Sandbox workspace\n\nThe houses of the uni-wizard sandbox work here. Try `/run file_list @bezalel`.\n',
  )
  git('add', 'README.md')
  git('commit', '-q', '-m', 'Sandbox workspace')
}
