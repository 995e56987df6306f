import { parseDocument } from 'yaml'
import type { z } from 'zod'
import { createRedactor } from '../harness/redactor.js'
import { exec } from '../tools/exec.js'
import { GitRefName, gitEnv } from '../tools/git/git-repo.js'
import type { ToolContext } from '../tools/tool.js'
import { DEFAULT_REPO_SETTINGS, REPO_SETTINGS_FILE, RepoSettings } from './repo-settings.js'

/** Largest settings file read (64 KiB); a larger one is a problem and the defaults apply. */
export const REPO_SETTINGS_MAX_BYTES = 64 * 1024

/** Aliases a settings file may use (a few for readability; "billion laughs" needs thousands). */
const MAX_ALIAS_COUNT = 16

export interface RepoSettingsRead {
  /** The file's settings, or the defaults when there is no file or it is bad. */
  settings: RepoSettings
  /** Why the file was not used (which key, what is wrong); never quotes the file's values. */
  problem?: string
  /** The git blob id of the file read: one bad version gets one comment (`repoSettingsProblemEffect`). */
  blob?: string
  /** The commit of the default branch the file was read from. */
  commit?: string
}

export interface ReadRepoSettingsOptions {
  /** A bare mirror or a clone's git directory. */
  gitDir: string
  /** The repository's default branch, from the Gitea API (never the job's or a PR's branch). */
  defaultBranch: string
  signal?: AbortSignal
}

const redact = createRedactor()

async function git(
  gitDir: string,
  args: string[],
  signal: AbortSignal | undefined,
  maxOutputBytes = 64 * 1024,
) {
  // gitEnv reads only the `toolSettings.git` author from its context: none here.
  const env = gitEnv({} as ToolContext)
  return exec('git', ['--no-pager', `--git-dir=${gitDir}`, ...args], { env, signal, maxOutputBytes })
}

/** `key.path: message` lines of a zod error; messages name the rule, never the value. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => {
      const where = i.path.length > 0 ? i.path.map(String).join('.') : '(top level)'
      if (i.code === 'unrecognized_keys')
        return `${where}: unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => k.slice(0, 40)).join(', ')}`
      return `${where}: ${i.message}`
    })
    .join('; ')
}

/**
 * Reads `.uni-wizard.yaml` from the tip of the default branch in a git directory, through the git
 * tools' hardened environment: never from a job's branch, a pull request's head or the files of a
 * checkout, so a pull request cannot change the settings (or the proof commands) it is judged by.
 * Looked up as `refs/heads/<branch>` (a mirror), then `refs/remotes/origin/<branch>` (a clone).
 * No file: the defaults and no problem. A bad file (not a regular file, over 64 KiB, not YAML,
 * not valid settings): the defaults and a `problem` saying which key and what is wrong.
 *
 * @example
 *   const { settings, problem, blob } = await readRepoSettings({ gitDir: mirror, defaultBranch: 'main' })
 */
export async function readRepoSettings(opts: ReadRepoSettingsOptions): Promise<RepoSettingsRead> {
  const fail = (problem: string, more: Partial<RepoSettingsRead> = {}): RepoSettingsRead => ({
    settings: DEFAULT_REPO_SETTINGS,
    problem: redact(problem),
    ...more,
  })
  if (!GitRefName.safeParse(opts.defaultBranch).success)
    return fail('the default branch name is not a valid branch name')
  let commit: string | undefined
  for (const ref of [`refs/heads/${opts.defaultBranch}`, `refs/remotes/origin/${opts.defaultBranch}`]) {
    const r = await git(
      opts.gitDir,
      ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`],
      opts.signal,
    )
    if (r.code === 0) {
      commit = r.stdout.trim()
      break
    }
  }
  if (commit === undefined) return { settings: DEFAULT_REPO_SETTINGS }
  const listed = await git(
    opts.gitDir,
    ['ls-tree', '-z', '--full-tree', commit, '--', REPO_SETTINGS_FILE],
    opts.signal,
  )
  if (listed.code !== 0)
    throw new Error(`git ls-tree failed reading ${REPO_SETTINGS_FILE} (exit ${listed.code})`)
  const entry = /^(\d{6}) (\w+) ([0-9a-f]{40,64})\t/.exec(listed.stdout)
  if (!entry) return { settings: DEFAULT_REPO_SETTINGS, commit }
  const [, mode, type, blob] = entry as unknown as [string, string, string, string]
  const where = `${REPO_SETTINGS_FILE} on ${opts.defaultBranch}`
  if (type !== 'blob' || (mode !== '100644' && mode !== '100755'))
    return fail(`${where} is not a regular file (a ${mode === '120000' ? 'symbolic link' : type})`, {
      blob,
      commit,
    })
  const size = await git(opts.gitDir, ['cat-file', '-s', blob], opts.signal)
  const bytes = Number(size.stdout.trim())
  if (size.code !== 0 || !Number.isSafeInteger(bytes)) throw new Error(`git cat-file -s failed on ${where}`)
  if (bytes > REPO_SETTINGS_MAX_BYTES)
    return fail(`${where} is ${bytes} bytes; the limit is ${REPO_SETTINGS_MAX_BYTES}`, { blob, commit })
  const content = await git(opts.gitDir, ['cat-file', 'blob', blob], opts.signal, REPO_SETTINGS_MAX_BYTES + 1)
  if (content.code !== 0) throw new Error(`git cat-file failed on ${where}`)

  // YAML 1.2 core schema: no custom tags (an unknown tag is an error here), few aliases, no
  // duplicate keys, and errors without a code frame (the frame would quote the file).
  const doc = parseDocument(content.stdout, { schema: 'core', uniqueKeys: true, prettyErrors: false })
  const yamlProblem = [...doc.errors, ...doc.warnings][0]
  if (yamlProblem) {
    const offset = yamlProblem.pos[0]
    const before = content.stdout.slice(0, offset).split('\n')
    const at = ` at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`
    return fail(`${where} is not valid YAML${at} (${yamlProblem.code})`, { blob, commit })
  }
  let data: unknown
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
  } catch {
    return fail(`${where} uses more than ${MAX_ALIAS_COUNT} aliases`, { blob, commit })
  }
  const parsed = RepoSettings.safeParse(data ?? {})
  if (!parsed.success) return fail(`${where} is not valid: ${describeIssues(parsed.error)}`, { blob, commit })
  return { settings: parsed.data, blob, commit }
}
