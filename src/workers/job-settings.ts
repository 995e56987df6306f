import { join } from 'node:path'
import type { Checkout } from '../checkouts/checkout-manager.js'
import type { JobCheckout } from '../effects/effects.js'
import type { JobRecord } from '../jobs/job-store.js'
import type { StoredResult } from '../jobs/stored-result.js'
import type { Logger } from '../logger.js'
import type { RedisClient } from '../queue/connection.js'
import { readRepoSettings, repoSettingsProblemEffect, type RepoSettingsRead } from '../repo-settings/index.js'
import { REPO_SETTINGS_FILE, houseAllowed } from '../repo-settings/repo-settings.js'

// A job's repository settings (`.uni-wizard.yaml` on the default branch, docs/CONFIG.md) as the
// worker reads them before a run.

/** How long a bad settings file's note is not repeated on the same issue (30 days). */
const SETTINGS_NOTE_TTL_S = 30 * 24 * 3600

/**
 * The default branch a job's settings are read from: the target's branch for an issue job, else
 * the one recorded at enqueue (from the Gitea API; never the PR's base or the ref checked out).
 */
export function defaultBranchOf(checkout: JobCheckout): string | undefined {
  return checkout.target.kind === 'default' ? checkout.target.branch : checkout.defaultBranch
}

/**
 * The repository's `.uni-wizard.yaml`, read from its default branch in the job's clone, or why
 * the job may not run: the house is not one the file lets work on it, or the file could not be
 * read at all (a bad file is not a refusal: the defaults apply and the job says so).
 */
export async function readJobSettings(
  house: string,
  rec: JobRecord,
  co: { co: Checkout; checkout: JobCheckout },
  signal: AbortSignal | undefined,
  jlog: Logger,
): Promise<RepoSettingsRead | { refusal: NonNullable<StoredResult['error']> }> {
  const repo = `${rec.origin.repo.owner}/${rec.origin.repo.name}`
  const defaultBranch = defaultBranchOf(co.checkout)
  if (defaultBranch === undefined)
    return {
      refusal: {
        rule: 'repo-settings',
        reason: `the job does not say which branch of ${repo} is its default branch (it was queued by an older router), so ${REPO_SETTINGS_FILE} cannot be read`,
        fix: 'write the command again',
      },
    }
  let read: RepoSettingsRead
  try {
    read = await readRepoSettings({ gitDir: join(co.co.path, '.git'), defaultBranch, signal })
  } catch (err) {
    jlog.warn({ err }, 'repository settings not read')
    return {
      refusal: {
        rule: 'repo-settings',
        reason: `could not read ${REPO_SETTINGS_FILE} of ${repo}: ${err instanceof Error ? err.message : String(err)}`,
        fix: `\`/retry ${rec.id}\``,
      },
    }
  }
  if (!houseAllowed(read.settings, house))
    return {
      refusal: {
        rule: 'repo-settings',
        reason: `${repo}'s ${REPO_SETTINGS_FILE} lets only ${(read.settings.houses ?? []).join(', ')} work on it`,
        fix: `ask one of those houses, or add ${house} to \`houses\` in ${REPO_SETTINGS_FILE} on ${defaultBranch}`,
      },
    }
  return read
}

/**
 * The note a bad settings file gets: on the first job of each issue that reads that version of
 * the file (keyed in Redis like `repoSettingsProblemEffect`'s comment), not on every job.
 */
export async function settingsNotes(
  redis: RedisClient,
  prefix: string,
  rec: JobRecord,
  read: RepoSettingsRead,
): Promise<string[]> {
  const effect = repoSettingsProblemEffect(read, rec.origin.repo, rec.origin.issue)
  if (!effect || read.problem === undefined) return []
  const first = await redis.set(`${prefix}:${effect.key}`, '1', 'EX', SETTINGS_NOTE_TTL_S, 'NX')
  if (first !== 'OK') return []
  return [
    `${REPO_SETTINGS_FILE} was not used: ${read.problem}; the default settings apply until it is fixed (docs/CONFIG.md)`,
  ]
}
