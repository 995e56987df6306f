import { inlineText } from '../commands-core/markdown.js'
import type { Effect } from '../effects/effects.js'
import type { RepoRef } from '../gitea/port.js'
import { REPO_SETTINGS_FILE } from './repo-settings.js'
import type { RepoSettingsRead } from './read-repo-settings.js'

/**
 * The one comment that tells people their `.uni-wizard.yaml` is bad, for the issue or pull request
 * whose command read it; undefined when the read had no problem. Keyed by repository, the file's
 * blob id and the issue, so each bad version of the file is reported once per issue however many
 * commands read it (the executor posts a keyed comment at most once). The text is inert.
 *
 * @example
 *   const read = await readRepoSettings({ gitDir, defaultBranch: 'main' })
 *   const effect = repoSettingsProblemEffect(read, repo, 12)
 *   if (effect) effects.push(effect)
 */
export function repoSettingsProblemEffect(
  read: Pick<RepoSettingsRead, 'problem' | 'blob'>,
  repo: RepoRef,
  issue: number,
): Extract<Effect, { type: 'comment' }> | undefined {
  if (read.problem === undefined) return undefined
  const version = read.blob ?? 'none'
  return {
    type: 'comment',
    repo,
    issue,
    key: `rs:${repo.owner}/${repo.name}:${version}:${issue}`,
    body: [
      `⚠️ **\`${REPO_SETTINGS_FILE}\` was not used**: ${inlineText(read.problem)}.`,
      '',
      'The default settings apply until the file on the default branch is fixed. ' +
        'Every key is described in docs/CONFIG.md.',
    ].join('\n'),
  }
}
