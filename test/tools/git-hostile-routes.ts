// Hostile repositories for the git tools: every way git allows a repository (its config, hooks,
// attributes, .gitmodules, git directory location) to name a program or reach outside the
// workspace. Shared by test/tools/git-hostile.test.ts and the resilience suite's hostile-workspace
// test. Each route plants one thing into a copy of a normal checkout; the programs it names are
// one script that records that it ran in a canary file, which must never appear.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, cp, mkdir, rename, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { GitBranchListArgs, gitBranchList } from '../../src/tools/git/git-branch-list.js'
import { GitCheckoutArgs, gitCheckout } from '../../src/tools/git/git-checkout.js'
import { GitCommitArgs, gitCommit } from '../../src/tools/git/git-commit.js'
import { GitLogArgs, gitLog } from '../../src/tools/git/git-log.js'
import { GitPullArgs, gitPull } from '../../src/tools/git/git-pull.js'
import { GitPushArgs, gitPush } from '../../src/tools/git/git-push.js'
import { GitStatusArgs, gitStatus } from '../../src/tools/git/git-status.js'
import type { ToolContext, ToolSpec } from '../../src/tools/tool.js'
import { startGitHttpServer, type GitHttpServer } from '../helpers/git-http.js'

const execFileP = promisify(execFile)
/** Plain git for setting up (never a tool's git): no host config. */
export const PLAIN_ENV = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  GIT_TERMINAL_PROMPT: '0',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
}

/** Plain git, asynchronous (the HTTP git server runs in this process). */
export async function g(cwd: string, ...args: string[]): Promise<string> {
  return (await execFileP('git', args, { cwd, encoding: 'utf8', env: PLAIN_ENV })).stdout.trim()
}

/** Every hook git 2.39 knows, client and server side. */
export const HOOKS = [
  'applypatch-msg',
  'pre-applypatch',
  'post-applypatch',
  'pre-commit',
  'pre-merge-commit',
  'prepare-commit-msg',
  'commit-msg',
  'post-commit',
  'pre-rebase',
  'post-checkout',
  'post-merge',
  'pre-push',
  'pre-receive',
  'update',
  'proc-receive',
  'post-receive',
  'post-update',
  'reference-transaction',
  'push-to-checkout',
  'pre-auto-gc',
  'post-rewrite',
  'sendemail-validate',
  'fsmonitor-watchman',
  'p4-changelist',
  'p4-prepare-changelist',
  'p4-post-changelist',
  'p4-pre-submit',
  'post-index-change',
]

/** What a route gets to plant with. */
export interface PlantContext {
  /** The route's checkout (in the workspace). */
  repo: string
  /** The canary-writing program (absolute path); it passes stdin through, so filters still "work". */
  evil: string
  /** A scratch directory outside the workspace. */
  outside: string
  /** The workspace root. */
  ws: string
}

export interface HostileRoute {
  name: string
  plant(p: PlantContext): Promise<void>
  /**
   * Every tool must refuse with this reason; or ('harmless') run normally; or ('nothing runs') may
   * fail in git's own way, but without running anything.
   */
  expect: RegExp | 'harmless' | 'nothing runs'
  /** The tools' repoPath, relative to the workspace root; default the route's checkout. */
  repoPath?: (route: string) => string
}

const setConfig = (repo: string, ...pairs: [string, string][]) =>
  pairs.reduce(
    (prev, [k, v]) => prev.then(() => g(repo, 'config', '--add', k, v).then(() => undefined)),
    Promise.resolve(),
  )
const attrs = (repo: string, text: string) => writeFile(path.join(repo, '.gitattributes'), text)
const refusedKey = (key: string) =>
  new RegExp(
    `refused: the repository's config \\(\\w+\\) sets ${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`,
    'i',
  )

/** A route whose config key must be refused: the refusal names `key` (a string, or a pattern). */
function configRoute(
  name: string,
  key: string | RegExp,
  pairs: (p: PlantContext) => [string, string][],
  attributes?: string,
): HostileRoute {
  return {
    name,
    async plant(p) {
      await setConfig(p.repo, ...pairs(p))
      if (attributes) await attrs(p.repo, attributes)
    },
    expect: typeof key === 'string' ? refusedKey(key) : key,
  }
}

/** A submodule whose own config and attributes name the canary, and a `.gitmodules` asking git to look inside it. */
async function plantHostileSubmodule(p: PlantContext): Promise<void> {
  const src = path.join(p.outside, 'subsrc')
  await g(p.outside, 'init', '-q', '-b', 'main', src)
  await writeFile(path.join(src, 'f'), 'a\n')
  await g(src, 'add', 'f')
  await g(src, '-c', 'user.name=s', '-c', 'user.email=s@x', 'commit', '-q', '-m', 'sub')
  await g(p.repo, '-c', 'protocol.file.allow=always', 'submodule', '-q', 'add', src, 'sm')
  await g(p.repo, 'commit', '-q', '-m', 'add submodule')
  // .gitmodules is repository content: it asks to look inside the submodule and recurse into it.
  for (const [k, v] of [
    ['submodule.sm.ignore', 'none'],
    ['submodule.sm.fetchRecurseSubmodules', 'true'],
  ] as const)
    await g(p.repo, 'config', '--file', '.gitmodules', k, v)
  await g(p.repo, 'add', '.gitmodules')
  await g(p.repo, 'commit', '-q', '-m', 'hostile .gitmodules')
  // Last (plain git in the superproject would now run it): the submodule's own config and attributes (never checked: the tools must not enter it).
  await g(path.join(p.repo, 'sm'), 'config', 'filter.x.clean', `${p.evil} clean`)
  await g(path.join(p.repo, 'sm'), 'config', 'core.fsmonitor', p.evil)
  await writeFile(path.join(p.repo, 'sm', '.gitattributes'), '* filter=x\n')
  await writeFile(path.join(p.repo, 'sm', 'f'), 'b\n')
}

export const ROUTES: HostileRoute[] = [
  configRoute(
    'filter clean',
    'filter.x.clean',
    (p) => [['filter.x.clean', `${p.evil} clean`]],
    '* filter=x\n',
  ),
  configRoute(
    'filter smudge',
    'filter.x.smudge',
    (p) => [['filter.x.smudge', `${p.evil} smudge`]],
    '* filter=x\n',
  ),
  configRoute(
    'filter process',
    'filter.x.process',
    (p) => [
      ['filter.x.process', p.evil],
      ['filter.x.required', 'true'],
    ],
    '* filter=x\n',
  ),
  configRoute('diff textconv', 'diff.x.textconv', (p) => [['diff.x.textconv', p.evil]], '* diff=x\n'),
  configRoute('diff command', 'diff.x.command', (p) => [['diff.x.command', p.evil]], '* diff=x\n'),
  configRoute('diff.external', 'diff.external', (p) => [['diff.external', p.evil]]),
  configRoute(
    'merge driver',
    'merge.x.driver',
    (p) => [['merge.x.driver', `${p.evil} %O %A %B`]],
    '* merge=x\n',
  ),
  configRoute('core.pager', 'core.pager', (p) => [['core.pager', p.evil]]),
  configRoute('pager.<cmd>', 'pager.status', (p) => [
    ['pager.status', p.evil],
    ['pager.log', p.evil],
  ]),
  configRoute('core.editor', 'core.editor', (p) => [['core.editor', p.evil]]),
  configRoute('sequence.editor', 'sequence.editor', (p) => [['sequence.editor', p.evil]]),
  configRoute('core.fsmonitor', 'core.fsmonitor', (p) => [['core.fsmonitor', p.evil]]),
  configRoute('core.hooksPath', 'core.hooksPath', (p) => [['core.hooksPath', path.dirname(p.evil)]]),
  configRoute('core.sshCommand', 'core.sshCommand', (p) => [['core.sshCommand', p.evil]]),
  configRoute('core.askPass', 'core.askPass', (p) => [['core.askPass', p.evil]]),
  configRoute('core.gitProxy', 'core.gitProxy', (p) => [['core.gitProxy', p.evil]]),
  configRoute('core.alternateRefsCommand', 'core.alternateRefsCommand', (p) => [
    ['core.alternateRefsCommand', p.evil],
  ]),
  configRoute('core.attributesFile', 'core.attributesFile', (p) => [
    ['core.attributesFile', path.join(p.outside, 'attributes')],
  ]),
  configRoute('remote uploadpack', 'remote.origin.uploadpack', (p) => [['remote.origin.uploadpack', p.evil]]),
  configRoute('remote receivepack', 'remote.origin.receivepack', (p) => [
    ['remote.origin.receivepack', p.evil],
  ]),
  configRoute('remote vcs (remote helper)', 'remote.origin.vcs', () => [['remote.origin.vcs', 'evil']]),
  configRoute('remote proxy', 'remote.origin.proxy', () => [['remote.origin.proxy', 'http://10.0.0.1:3128']]),
  configRoute('remote promisor (lazy fetch)', 'remote.origin.promisor', () => [
    ['remote.origin.promisor', 'true'],
    ['extensions.partialClone', 'origin'],
  ]),
  configRoute('credential.helper', 'credential.helper', (p) => [['credential.helper', p.evil]]),
  configRoute('credential.<url>.helper', 'credential.http://127.0.0.1.helper', (p) => [
    ['credential.http://127.0.0.1.helper', p.evil],
  ]),
  configRoute('gpg.program with commit.gpgSign', 'gpg.program', (p) => [
    ['gpg.program', p.evil],
    ['commit.gpgSign', 'true'],
  ]),
  configRoute('gpg.ssh.program', 'gpg.ssh.program', (p) => [
    ['gpg.ssh.program', p.evil],
    ['gpg.format', 'ssh'],
  ]),
  configRoute('commit.gpgSign', 'commit.gpgSign', () => [['commit.gpgSign', 'true']]),
  configRoute('log.showSignature', 'log.showSignature', () => [['log.showSignature', 'true']]),
  configRoute('include.path', 'include.path', (p) => [['include.path', path.join(p.outside, 'included')]]),
  configRoute('includeIf gitdir', 'includeIf.gitdir:/.path', (p) => [
    ['includeIf.gitdir:/.path', path.join(p.outside, 'included')],
  ]),
  configRoute('includeIf onbranch', 'includeIf.onbranch:main.path', (p) => [
    ['includeIf.onbranch:main.path', path.join(p.outside, 'included')],
  ]),
  configRoute('alias', 'alias.status', (p) => [
    ['alias.status', `!${p.evil}`],
    ['alias.st', `!${p.evil}`],
  ]),
  configRoute('url insteadOf', /refused: the repository's config \(local\) sets url\..*\.insteadof/i, (p) => [
    [`url.ext::${p.evil}.insteadOf`, 'http://'],
  ]),
  configRoute(
    'url pushInsteadOf',
    /refused: the repository's config \(local\) sets url\..*\.pushinsteadof/i,
    (p) => [[`url.ext::${p.evil}.pushInsteadOf`, 'http://']],
  ),
  configRoute('http.proxy', 'http.proxy', () => [['http.proxy', 'http://10.0.0.1:3128']]),
  configRoute('http.<url>.*', 'http.http://127.0.0.1.proxy', () => [
    ['http.http://127.0.0.1.proxy', 'http://10.0.0.1:3128'],
  ]),
  configRoute('submodule update !command', 'submodule.sm.update', (p) => [
    ['submodule.sm.update', `!${p.evil}`],
  ]),
  configRoute('uploadpack.packObjectsHook', 'uploadpack.packObjectsHook', (p) => [
    ['uploadpack.packObjectsHook', p.evil],
  ]),
  configRoute('interactive.diffFilter', 'interactive.diffFilter', (p) => [
    ['interactive.diffFilter', p.evil],
  ]),
  configRoute('imap.tunnel', 'imap.tunnel', (p) => [['imap.tunnel', p.evil]]),
  configRoute('init.templateDir', 'init.templateDir', (p) => [['init.templateDir', p.outside]]),
  {
    name: 'worktree config',
    async plant(p) {
      await g(p.repo, 'config', 'extensions.worktreeConfig', 'true')
      await g(p.repo, 'config', '--worktree', 'filter.x.clean', p.evil)
      await attrs(p.repo, '* filter=x\n')
    },
    expect: refusedKey('filter.x.clean'),
  },
  {
    name: 'core.worktree outside the roots',
    async plant(p) {
      await mkdir(path.join(p.outside, 'tree'), { recursive: true })
      await g(p.repo, 'config', 'core.worktree', path.join(p.outside, 'tree'))
    },
    expect: /top level .* is outside the workspace roots|not a git repository/,
  },
  {
    name: 'gitfile pointing outside the roots',
    async plant(p) {
      const moved = path.join(p.outside, 'moved.git')
      await rename(path.join(p.repo, '.git'), moved)
      await writeFile(path.join(p.repo, '.git'), `gitdir: ${moved}\n`)
    },
    expect: /git directory .* is outside the workspace roots/,
  },
  {
    name: 'alternates outside the roots',
    async plant(p) {
      await g(p.outside, 'init', '-q', '--bare', 'alt.git')
      await writeFile(
        path.join(p.repo, '.git', 'objects', 'info', 'alternates'),
        `${path.join(p.outside, 'alt.git', 'objects')}\n`,
      )
    },
    expect: /alternate object directory .* is outside the workspace roots/,
  },
  {
    // Issue 10 (F5): git follows alternates of alternates; the second level points outside.
    name: 'nested alternates outside the roots',
    async plant(p) {
      await g(p.outside, 'init', '-q', '--bare', 'alt.git')
      const store = `${p.repo}-store`
      await mkdir(path.join(store, 'objects', 'info'), { recursive: true })
      await writeFile(
        path.join(p.repo, '.git', 'objects', 'info', 'alternates'),
        `${path.join(store, 'objects')}\n`,
      )
      await writeFile(
        path.join(store, 'objects', 'info', 'alternates'),
        `${path.join(p.outside, 'alt.git', 'objects')}\n`,
      )
    },
    expect: /alternate object directory .*alt\.git.* is outside the workspace roots/,
  },
  {
    name: 'embedded bare repository',
    async plant(p) {
      const bare = path.join(p.repo, 'embedded')
      await g(p.repo, 'init', '-q', '--bare', bare)
      await g(bare, 'config', 'core.fsmonitor', p.evil)
      await g(bare, 'config', 'filter.x.clean', p.evil)
    },
    repoPath: (route) => `${route}/embedded`,
    // Refused by the workspace guard (a git directory by its contents) before git is asked, or by
    // git itself (safe.bareRepository=explicit) where the guard does not apply.
    expect: /refusing a path inside a git directory|not a git repository/,
  },
  {
    name: 'every hook',
    async plant(p) {
      for (const hook of HOOKS) await cp(p.evil, path.join(p.repo, '.git', 'hooks', hook))
    },
    expect: 'harmless',
  },
  {
    name: 'attributes naming undefined drivers',
    async plant(p) {
      const text = '* filter=x diff=x merge=x\n'
      await attrs(p.repo, text)
      await writeFile(path.join(p.repo, '.git', 'info', 'attributes'), text)
    },
    expect: 'harmless',
  },
  {
    name: 'hostile submodule and .gitmodules',
    plant: plantHostileSubmodule,
    expect: 'harmless',
  },
  {
    // Issue 10 (F1): git follows a symlinked .gitmodules, so the check must not skip it.
    name: '.gitmodules symlink',
    async plant(p) {
      await plantHostileSubmodule(p)
      await rename(path.join(p.repo, '.gitmodules'), path.join(p.repo, 'gm.txt'))
      await symlink('gm.txt', path.join(p.repo, '.gitmodules'))
    },
    expect: /refused: the repository's \.gitmodules is a symbolic link/,
  },
  {
    // Git itself rejects `update = !command` in .gitmodules (a fatal "invalid value" for checkout
    // and pull); what matters here is that nothing runs.
    name: '.gitmodules update !command',
    async plant(p) {
      await g(p.repo, 'config', '--file', '.gitmodules', 'submodule.sm.path', 'sm')
      await g(p.repo, 'config', '--file', '.gitmodules', 'submodule.sm.url', `ext::${p.evil}`)
      await g(p.repo, 'config', '--file', '.gitmodules', 'submodule.sm.update', `!${p.evil}`)
      await g(p.repo, 'add', '.gitmodules')
      await g(p.repo, 'commit', '-q', '-m', 'hostile .gitmodules')
    },
    expect: 'nothing runs',
  },
]

/** The world the routes run in: a real HTTP git server, a workspace, a base checkout to copy. */
export class HostileWorld {
  server!: GitHttpServer
  ws!: string
  private base!: string
  constructor(readonly dir: string) {}

  async start(): Promise<void> {
    const { dir } = this
    this.ws = path.join(dir, 'ws')
    await mkdir(this.ws)
    await mkdir(path.join(dir, 'srv'))
    await mkdir(path.join(dir, 'outside'))
    await g(dir, 'init', '-q', '--bare', '-b', 'main', path.join(dir, 'srv', 'remote.git'))
    this.server = await startGitHttpServer({ projectRoot: path.join(dir, 'srv') })
    // base: one commit pushed; the remote then gets another commit from elsewhere, and base has
    // an uncommitted change of the same file, so a pull after a commit is a real three-way merge.
    this.base = path.join(dir, 'base')
    await g(dir, 'clone', '-q', this.server.repoUrl('remote.git'), this.base)
    await g(this.base, 'config', 'user.name', 'Test')
    await g(this.base, 'config', 'user.email', 'test@example.invalid')
    await g(this.base, 'checkout', '-q', '-b', 'main')
    await writeFile(path.join(this.base, 'data.txt'), 'one\ntwo\nthree\nfour\nfive\n')
    await g(this.base, 'add', 'data.txt')
    await g(this.base, 'commit', '-q', '-m', 'initial')
    await g(this.base, 'push', '-q', '-u', 'origin', 'main')
    const other = path.join(dir, 'other')
    await g(dir, 'clone', '-q', this.server.repoUrl('remote.git'), other)
    await writeFile(path.join(other, 'data.txt'), 'ONE\ntwo\nthree\nfour\nfive\n')
    await g(other, '-c', 'user.name=o', '-c', 'user.email=o@x', 'commit', '-q', '-am', 'from elsewhere')
    await g(other, 'push', '-q', 'origin', 'main')
    await writeFile(path.join(this.base, 'data.txt'), 'one\ntwo\nthree\nfour\nFIVE\n')
    // An unmodified same-size rewrite with an old mtime: git must hash it (clean filters run).
    await writeFile(path.join(this.base, 'same.txt'), 'x\n')
    await g(this.base, 'add', 'same.txt')
    await g(this.base, 'commit', '-q', '-m', 'same')
    await writeFile(path.join(this.base, 'same.txt'), 'y\n')
  }

  /** A fresh copy of the base checkout in the workspace, with the route planted; its canary path. */
  async prepare(
    route: HostileRoute,
    slug: string,
  ): Promise<{ repo: string; canary: string; repoPath: string }> {
    const repo = path.join(this.ws, slug)
    await cp(this.base, repo, { recursive: true })
    const outside = path.join(this.dir, 'outside', slug)
    await mkdir(outside, { recursive: true })
    const canary = path.join(this.dir, 'outside', `${slug}.canary`)
    const bin = path.join(outside, 'bin')
    await mkdir(bin)
    const evil = path.join(bin, 'evil')
    await writeFile(
      evil,
      `#!/bin/sh\necho "ran: $0 $*" >> '${canary}'\n[ "$1" = clean ] || [ "$1" = smudge ] && exec cat\nexit 0\n`,
    )
    await chmod(evil, 0o755)
    for (const hook of HOOKS) await cp(evil, path.join(bin, hook))
    await writeFile(path.join(outside, 'included'), `[filter "x"]\n\tclean = ${evil} clean\n`)
    await writeFile(path.join(outside, 'attributes'), '* filter=x\n')
    await route.plant({ repo, evil, outside, ws: this.ws })
    return { repo, canary, repoPath: route.repoPath?.(slug) ?? slug }
  }

  async stop(): Promise<void> {
    await this.server?.stop()
  }
}

export interface ToolOutcome {
  tool: string
  ok: boolean
  error?: string
  verified?: boolean
  /** Whether the canary existed right after this tool (which tool ran something, if one did). */
  canaryAfter?: boolean
}

/**
 * Runs every git tool on `repoPath` in the order a person would (status, log, branches, commit,
 * pull with a merge, create a branch, push it, switch back), with each tool's verify after a
 * success. Never throws: each tool's outcome is returned.
 */
export async function runEveryGitTool(
  repoPath: string,
  branch: string,
  ctx: ToolContext,
  /** When given, each outcome records whether this file existed right after the tool. */
  canary?: string,
): Promise<ToolOutcome[]> {
  const steps: [ToolSpec, unknown][] = [
    [gitStatus, GitStatusArgs.parse({ repoPath })],
    [gitLog, GitLogArgs.parse({ repoPath, maxCount: 5 })],
    [gitBranchList, GitBranchListArgs.parse({ repoPath, remotes: true })],
    [gitCommit, GitCommitArgs.parse({ repoPath, message: 'local change', all: true })],
    [gitPull, GitPullArgs.parse({ repoPath, remote: 'origin', branch: 'main', ffOnly: false })],
    [gitCheckout, GitCheckoutArgs.parse({ repoPath, ref: branch, create: true })],
    [gitPush, GitPushArgs.parse({ repoPath, remote: 'origin', branch })],
    [gitCheckout, GitCheckoutArgs.parse({ repoPath, ref: 'main' })],
    [gitStatus, GitStatusArgs.parse({ repoPath })],
  ]
  const outcomes: ToolOutcome[] = []
  for (const [tool, args] of steps) {
    try {
      const result = await tool.run(args, ctx)
      const evidence = await tool.verify(args, result, ctx)
      outcomes.push({ tool: tool.name, ok: true, verified: evidence !== undefined })
    } catch (err) {
      outcomes.push({ tool: tool.name, ok: false, error: (err as Error).message })
    }
    if (canary) (outcomes.at(-1) as ToolOutcome).canaryAfter = existsSync(canary)
  }
  return outcomes
}

/** A file-name-safe slug of a route name. */
export function slugOf(name: string): string {
  return name
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .toLowerCase()
}
