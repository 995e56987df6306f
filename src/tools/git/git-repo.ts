import { existsSync } from 'node:fs'
import { realpath } from 'node:fs/promises'
import path from 'node:path'
import { z } from 'zod'
import { sha256Hex } from '../digest.js'
import { exec, tail, type ExecResult } from '../exec.js'
import { toolsConfigOf } from '../tools-config.js'
import { ToolError, type ToolContext } from '../tool.js'
import { describePath, resolveInWorkspace } from '../workspace.js'

/**
 * A ref, branch or remote name as an argument: never starting with "-" (it would be read as an
 * option), no whitespace, control characters or the characters git forbids in ref names.
 */
export const GitRefName = z
  .string()
  .min(1)
  .max(255)
  .refine((r) => !r.startsWith('-'), 'must not start with "-"')
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  .refine((r) => !/[\s\x00-\x1f\x7f~^:?*[\\]|\.\.|@\{/.test(r), 'not a valid git ref name')

/** A repository path in the workspace; `.` (the default) is the house's first workspace root, so `/run git_status` needs no argument. */
export const RepoPathArg = z.string().min(1).max(4096).default('.')

/**
 * The environment for every git child: never prompt (no terminal, no askpass, SSH in batch mode),
 * no pager, no editor, C locale so messages can be matched.
 */
export function gitEnv(ctx: ToolContext): NodeJS.ProcessEnv {
  const { authorName, authorEmail } = toolsConfigOf(ctx).git
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: 'true',
    SSH_ASKPASS: 'true',
    GIT_SSH_COMMAND: 'ssh -o BatchMode=yes',
    GIT_EDITOR: 'true',
    GIT_PAGER: 'cat',
    ...(authorName ? { GIT_AUTHOR_NAME: authorName, GIT_COMMITTER_NAME: authorName } : {}),
    ...(authorEmail ? { GIT_AUTHOR_EMAIL: authorEmail, GIT_COMMITTER_EMAIL: authorEmail } : {}),
  }
}

// A repo's own config must not make git run programs (fsmonitor) or use the ext:: transport.
const HARDENING = ['-c', 'core.fsmonitor=false', '-c', 'protocol.ext.allow=never']

const TRANSIENT =
  /index\.lock|could not resolve host|connection (refused|timed out|reset)|early eof|rpc failed|the remote end hung up|HTTP 5\d\d|temporarily unavailable|could not read from remote/i

/** Runs git in a repo; returns the result (any exit code). */
export function gitRaw(repo: string, args: string[], ctx: ToolContext, input?: string): Promise<ExecResult> {
  return exec('git', [...HARDENING, '-C', repo, ...args], {
    env: gitEnv(ctx),
    signal: ctx.signal,
    maxOutputBytes: toolsConfigOf(ctx).exec.maxOutputBytes,
    input,
  })
}

/**
 * Runs git in a repo and returns stdout; a non-zero exit throws a ToolError with stderr's end,
 * transient for lock contention and network trouble.
 *
 * @example
 *   const head = (await git(repo, ['rev-parse', 'HEAD'], ctx)).trim()
 */
export async function git(repo: string, args: string[], ctx: ToolContext, input?: string): Promise<string> {
  const r = await gitRaw(repo, args, ctx, input)
  if (r.code !== 0) {
    const msg = tail(r.stderr || r.stdout)
    throw new ToolError(`git ${args[0] ?? ''} failed: ${msg}`, TRANSIENT.test(msg))
  }
  return r.stdout
}

/**
 * Resolves `repoPath` inside the workspace roots to the real top level of its git repository,
 * and refuses a repo whose top level lies outside the roots (a root inside someone else's repo).
 */
export async function resolveRepo(repoPath: string, ctx: ToolContext): Promise<string> {
  const dir = (await resolveInWorkspace(repoPath, ctx.workspaceRoots, { kind: 'directory' })).path
  const r = await gitRaw(dir, ['rev-parse', '--show-toplevel'], ctx)
  if (r.code !== 0) throw new ToolError(`not a git repository: ${repoPath}`)
  const top = await realpath(r.stdout.trim())
  await resolveInWorkspace(top, ctx.workspaceRoots, { kind: 'directory' })
  return top
}

/**
 * `repo:<realpath of the top level>`, the target every git tool declares. Computed synchronously
 * (targets are), by walking up to the directory holding `.git`; a path in no repo names itself.
 */
export function repoTarget(repoPath: string, ctx: ToolContext): string {
  const start = describePath(repoPath, ctx.workspaceRoots)
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, '.git'))) return `repo:${dir}`
    if (path.dirname(dir) === dir) return `repo:${start}`
  }
}

/** HEAD (or "none" in an empty repo) — also the evidence after commit, checkout and pull. */
export async function headOf(repo: string, ctx: ToolContext): Promise<string> {
  const r = await gitRaw(repo, ['rev-parse', '--verify', '--quiet', 'HEAD'], ctx)
  return r.code === 0 ? r.stdout.trim() : 'none'
}

/** Digest of HEAD plus `status --porcelain`: changes whenever a commit or the working tree does. */
export async function repoDigest(repo: string, ctx: ToolContext): Promise<string> {
  const [head, status] = await Promise.all([
    headOf(repo, ctx),
    git(repo, ['status', '--porcelain=v1', '-z'], ctx),
  ])
  return sha256Hex(`${head}\n${status}`)
}

/** For `targetDigest`: the repo digest, or undefined when the path is not (yet) a usable repo. */
export async function repoDigestOrUndefined(repoPath: string, ctx: ToolContext): Promise<string | undefined> {
  try {
    return await repoDigest(await resolveRepo(repoPath, ctx), ctx)
  } catch {
    return undefined
  }
}

/** The current branch name, or undefined on a detached HEAD. */
export async function currentBranch(repo: string, ctx: ToolContext): Promise<string | undefined> {
  const r = await gitRaw(repo, ['symbolic-ref', '--quiet', '--short', 'HEAD'], ctx)
  return r.code === 0 ? r.stdout.trim() : undefined
}

/** Refuses a path argument that leaves the repo; returns it relative to the repo. */
export function repoRelative(repo: string, p: string): string {
  const abs = path.resolve(repo, p)
  const rel = path.relative(repo, abs)
  if (rel.startsWith('..') || path.isAbsolute(rel))
    throw new ToolError(`path is outside the repository: ${p}`)
  return rel === '' ? '.' : rel
}
