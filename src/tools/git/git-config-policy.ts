import { ToolError } from '../tool.js'

/**
 * Config every git child runs with, passed as `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n` (command-line
 * scope: it wins over the repository's own config and reaches every git that git starts). Each
 * entry neutralises a key that git reads by a fixed name and that names a program or makes git
 * start one, or that would let git reach past the checked remote. Keys with a user-chosen part
 * (`filter.<x>.clean`, `remote.<x>.uploadpack`, `alias.*`, `include.path`...) cannot be overridden
 * by name: `checkRepoConfig` refuses them instead.
 */
export const SAFE_CONFIG: readonly (readonly [string, string])[] = [
  // No hook from .git/hooks (or anywhere) runs: every hook is looked up under /dev/null/<name>.
  ['core.hooksPath', '/dev/null'],
  ['core.fsmonitor', 'false'],
  // No editor and no pager: ":" and "cat" are the values for which git starts nothing.
  ['core.editor', ':'],
  ['sequence.editor', ':'],
  ['core.pager', 'cat'],
  ['color.ui', 'false'],
  // No askpass program: with GIT_TERMINAL_PROMPT=0 a missing credential is a plain failure.
  ['core.askPass', ''],
  // An empty value empties the list of credential helpers.
  ['credential.helper', ''],
  ['core.sshCommand', 'false'],
  ['ssh.variant', 'ssh'],
  ['core.gitProxy', 'none'],
  // An empty external diff command runs nothing (git refuses to run "").
  ['diff.external', ''],
  ['gpg.program', 'false'],
  ['gpg.openpgp.program', 'false'],
  ['gpg.x509.program', 'false'],
  ['gpg.ssh.program', 'false'],
  ['gpg.ssh.defaultKeyCommand', 'false'],
  ['commit.gpgSign', 'false'],
  ['tag.gpgSign', 'false'],
  ['tag.forceSignAnnotated', 'false'],
  ['push.gpgSign', 'false'],
  ['log.showSignature', 'false'],
  ['merge.verifySignatures', 'false'],
  // Submodules are never entered: their own config and attributes are not checked.
  ['submodule.recurse', 'false'],
  ['fetch.recurseSubmodules', 'false'],
  ['push.recurseSubmodules', 'no'],
  ['diff.ignoreSubmodules', 'dirty'],
  ['status.submoduleSummary', 'false'],
  // Transports: only http and https (the remote URL is checked and its address pinned first).
  ['protocol.allow', 'never'],
  ['protocol.http.allow', 'always'],
  ['protocol.https.allow', 'always'],
  ['http.followRedirects', 'false'],
  ['http.proxy', ''],
  // An embedded bare repository is not discovered (only the work tree's .git is).
  ['safe.bareRepository', 'explicit'],
  // The host's attributes file names no driver git could run, but keep the host out of it.
  ['core.attributesFile', '/dev/null'],
  // Automatic gc runs in the foreground, inside the tool's process group, never left behind.
  ['gc.autoDetach', 'false'],
]

type ValueCheck = (value: string | undefined) => boolean

const anyValue: ValueCheck = () => true

/**
 * Keys a repository's own config may hold: each is data, never a program, a path git reads
 * outside the repository, an include, or a rewrite of a remote URL. Everything else is refused
 * (an allowlist: a key git adds later is refused until someone decides it is data).
 * `section.key` or `section.*.key` (any subsection), lower-case as `git config --list` prints them.
 */
const ALLOWED: ReadonlyMap<string, ValueCheck> = new Map<string, ValueCheck>([
  ...[
    'core.repositoryformatversion',
    'core.filemode',
    'core.bare',
    'core.logallrefupdates',
    'core.ignorecase',
    'core.precomposeunicode',
    'core.symlinks',
    'core.autocrlf',
    'core.eol',
    'core.safecrlf',
    'core.quotepath',
    'core.checkstat',
    'core.trustctime',
    'core.untrackedcache',
    'core.splitindex',
    'core.preloadindex',
    'core.abbrev',
    'core.compression',
    'core.loosecompression',
    'core.protecthfs',
    'core.protectntfs',
    'core.sparsecheckout',
    'core.sparsecheckoutcone',
    'core.sharedrepository',
    'core.multipackindex',
    'core.commitgraph',
    'core.warnambiguousrefs',
    'core.longpaths',
    // Where the work tree is: resolveRepo refuses a top level outside the workspace roots.
    'core.worktree',
    'extensions.objectformat',
    'extensions.worktreeconfig',
    'index.version',
    'user.name',
    'user.email',
    'user.useconfigonly',
    'author.name',
    'author.email',
    'committer.name',
    'committer.email',
    'init.defaultbranch',
    'fetch.prune',
    'fetch.prunetags',
    'pull.rebase',
    'pull.ff',
    'push.default',
    'push.autosetupremote',
    'lfs.repositoryformatversion',
    'submodule.active',
    // Used only by the tool that names the remote, which checks the URL against the network policy.
    'remote.*.url',
    'remote.*.pushurl',
    'remote.*.fetch',
    'remote.*.push',
    'remote.*.tagopt',
    'remote.*.prune',
    'remote.*.prunetags',
    'remote.*.mirror',
    'remote.*.skipdefaultupdate',
    'remote.*.skipfetchall',
    'branch.*.remote',
    'branch.*.pushremote',
    'branch.*.merge',
    'branch.*.rebase',
    'branch.*.description',
    'submodule.*.url',
    'submodule.*.active',
    'submodule.*.branch',
    'submodule.*.ignore',
    'submodule.*.fetchrecursesubmodules',
  ].map((k): [string, ValueCheck] => [k, anyValue]),
  // `update = !command` runs a command; the other values are data.
  [
    'submodule.*.update',
    (v) => v !== undefined && ['checkout', 'rebase', 'merge', 'none'].includes(v.trim()),
  ],
])

/** One key of a repository's config, as `git config --list --show-scope` reports it. */
export interface RepoConfigEntry {
  scope: string
  key: string
  value: string | undefined
}

/**
 * Parses `git config --list --show-scope --null` output: `scope NUL key [LF value] NUL`, repeated.
 */
export function parseConfigList(text: string): RepoConfigEntry[] {
  const parts = text.split('\0')
  const entries: RepoConfigEntry[] = []
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const scope = parts[i] as string
    const kv = parts[i + 1] as string
    const nl = kv.indexOf('\n')
    entries.push(
      nl < 0
        ? { scope, key: kv, value: undefined }
        : { scope, key: kv.slice(0, nl), value: kv.slice(nl + 1) },
    )
  }
  return entries
}

/** `section.*.key` for a key with a subsection, `section.key` without; section and key lower-cased. */
export function configPattern(key: string): string {
  const first = key.indexOf('.')
  const last = key.lastIndexOf('.')
  if (first < 0) return key.toLowerCase()
  const section = key.slice(0, first).toLowerCase()
  const name = key.slice(last + 1).toLowerCase()
  return first === last ? `${section}.${name}` : `${section}.*.${name}`
}

/**
 * Refuses a repository whose own config (local and worktree scope; system and global config are
 * never read) holds a key that is not on the data-only allowlist, naming the first such key.
 *
 * @example
 *   checkRepoConfig([{ scope: 'local', key: 'filter.x.clean', value: 'sh -c id' }])
 *   // throws ToolError: refused: the repository's config sets filter.x.clean ...
 */
export function checkRepoConfig(entries: readonly RepoConfigEntry[]): void {
  for (const e of entries) {
    if (e.scope === 'command') continue
    const check = ALLOWED.get(configPattern(e.key))
    if (check?.(e.value)) continue
    throw new ToolError(
      `refused: the repository's config (${e.scope}) sets ${e.key}, which is not on the data-only ` +
        'allowlist: it may name a program, an include or a URL rewrite. Remove it from the config ' +
        '(see "Git" in docs/TOOLS.md).',
    )
  }
}

/** The remotes a repository's config names, with their fetch and push URLs. */
export interface ConfiguredRemote {
  urls: string[]
  pushUrls: string[]
}

/** `remote.<name>.url` / `.pushurl` entries, grouped by remote name (case as written). */
export function remotesOf(entries: readonly RepoConfigEntry[]): Map<string, ConfiguredRemote> {
  const remotes = new Map<string, ConfiguredRemote>()
  for (const e of entries) {
    if (e.scope === 'command' || e.value === undefined) continue
    const m = /^remote\.(.+)\.(url|pushurl)$/i.exec(e.key)
    if (!m) continue
    const name = m[1] as string
    const r = remotes.get(name) ?? { urls: [], pushUrls: [] }
    if ((m[2] as string).toLowerCase() === 'url') r.urls.push(e.value)
    else r.pushUrls.push(e.value)
    remotes.set(name, r)
  }
  return remotes
}
