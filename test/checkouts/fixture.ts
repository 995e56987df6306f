// Shared setup for the checkout tests: source repositories served over real HTTP (git http-backend
// behind a token check), a CheckoutManager on a temp root, and its log lines captured.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { CheckoutManager, type CheckoutManagerOptions } from '../../src/checkouts/index.js'
import { REDACT_PATHS, type Logger } from '../../src/logger.js'
import { startAuthGitServer, type AuthGitOptions, type AuthGitServer } from '../helpers/git-http-auth.js'

const GIT_ENV = {
  PATH: process.env.PATH,
  HOME: '/nonexistent',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.invalid',
}

/** Runs git for a fixture (never through the code under test). */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8' }).trim()
}

export interface SourceRepo {
  /** A work tree whose commits are pushed to the bare repository the server serves. */
  work: string
  bare: string
  commit(files: Record<string, string>, message?: string): string
  push(...refspecs: string[]): void
}

/** Creates `<projectRoot>/<owner>/<name>.git` with a work tree to commit from. */
export function sourceRepo(projectRoot: string, owner: string, name: string): SourceRepo {
  const bare = path.join(projectRoot, owner, `${name}.git`)
  mkdirSync(bare, { recursive: true })
  git(bare, 'init', '--quiet', '--bare', '--initial-branch=main')
  const work = path.join(path.dirname(projectRoot), 'work', owner, name)
  mkdirSync(work, { recursive: true })
  git(work, 'init', '--quiet', '--initial-branch=main')
  git(work, 'remote', 'add', 'origin', bare)
  return {
    work,
    bare,
    commit(files, message = 'change') {
      for (const [f, text] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(work, f)), { recursive: true })
        writeFileSync(path.join(work, f), text)
      }
      git(work, 'add', '-A')
      git(work, 'commit', '--quiet', '-m', message)
      return git(work, 'rev-parse', 'HEAD')
    },
    push(...refspecs) {
      git(work, 'push', '--quiet', '--force', 'origin', ...refspecs)
    },
  }
}

export interface World {
  dir: string
  root: string
  projectRoot: string
  server: AuthGitServer
  logLines: string[]
  /** The logger whose lines `logLines` captures. */
  log: Logger
  manager(opts?: Partial<CheckoutManagerOptions>): CheckoutManager
  url(owner: string, name: string): string
  cleanup(): Promise<void>
}

export async function makeWorld(serverOpts: Partial<AuthGitOptions> = {}): Promise<World> {
  const dir = mkdtempSync(path.join(tmpdir(), 'uw-co-'))
  const projectRoot = path.join(dir, 'served')
  mkdirSync(projectRoot)
  const server = await startAuthGitServer({ projectRoot, ...serverOpts })
  const logLines: string[] = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean))
      cb()
    },
  })
  const log = pino({ level: 'debug', redact: REDACT_PATHS }, sink)
  return {
    dir,
    root: path.join(dir, 'checkouts'),
    projectRoot,
    server,
    logLines,
    log,
    manager: (opts = {}) =>
      new CheckoutManager({
        root: path.join(dir, 'checkouts'),
        allowedOrigins: [server.url],
        diskBudgetBytes: 1 << 30,
        keepFailedMs: 0,
        log,
        ...opts,
      }),
    url: (owner, name) => server.repoUrl(`${owner}/${name}.git`),
    async cleanup() {
      await server.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export const signal = (): AbortSignal => AbortSignal.timeout(60_000)
