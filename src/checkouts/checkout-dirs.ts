import { createHash } from 'node:crypto'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import path from 'node:path'

/** The layout under the checkout root (docs/CHECKOUTS.md, "On disk"). */
export interface CheckoutLayout {
  mirrors: string
  worktrees: string
  /** Issue workspaces: one checkout per repository, issue and house, kept between jobs. */
  workspaces: string
  locks: string
  trash: string
}

export function layoutOf(root: string): CheckoutLayout {
  return {
    mirrors: path.join(root, 'mirrors'),
    worktrees: path.join(root, 'worktrees'),
    workspaces: path.join(root, 'workspaces'),
    locks: path.join(root, 'locks'),
    trash: path.join(root, 'trash'),
  }
}

/** `<root>/mirrors/<owner>/<name>.git` and its lock file, for a validated, lower-cased key. */
export function mirrorPathsOf(layout: CheckoutLayout, repoKey: string): { dir: string; lock: string } {
  const [owner = '', name = ''] = repoKey.split('/')
  return {
    dir: path.join(layout.mirrors, owner, `${name}.git`),
    lock: path.join(layout.locks, owner, `${name}.lock`),
  }
}

/**
 * The directory name of a job's checkout: a readable slug of the job id and 12 hex of its SHA-256,
 * so any job id (colons, slashes, dots) gives one safe path segment and distinct ids never meet.
 */
export function checkoutDirName(jobId: string): string {
  const slug = jobId
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, 60)
  const hash = createHash('sha256').update(jobId).digest('hex').slice(0, 12)
  return `${slug || 'job'}-${hash}`
}

/**
 * What is known about a checkout directory, in `<worktrees>/<name>.json` next to it (never inside
 * the checkout, where the job's tools could change it).
 */
export interface CheckoutMeta {
  jobId: string
  repoKey: string
  commit?: string
  pid: number
  host: string
  startedAt: number
  /** Set when a failed job's checkout is kept for debugging: removed by `sweep` after this. */
  keptUntil?: number
  /** A checkout its job's next delivery resumes (`resumeMs`): `sweep` leaves it until then. */
  resumableUntil?: number
  /** An issue workspace's: the commit it was last synced to, and when a job last ended in it. */
  workspace?: { issue: number; house: string; syncedCommit: string; lastUsedAt: number }
}

export function metaPathOf(checkoutPath: string): string {
  return `${checkoutPath}.json`
}

export async function writeMeta(
  checkoutPath: string,
  meta: Omit<CheckoutMeta, 'pid' | 'host'>,
): Promise<void> {
  const full: CheckoutMeta = { ...meta, pid: process.pid, host: hostname() }
  await writeFile(metaPathOf(checkoutPath), `${JSON.stringify(full)}\n`)
}

export async function readMeta(checkoutPath: string): Promise<CheckoutMeta | undefined> {
  try {
    return JSON.parse(await readFile(metaPathOf(checkoutPath), 'utf8')) as CheckoutMeta
  } catch {
    return undefined
  }
}

/** Removes a checkout and its meta file (the meta last, so a crash in between leaves a record). */
export async function removeCheckout(checkoutPath: string): Promise<void> {
  await rm(checkoutPath, { recursive: true, force: true, maxRetries: 3 })
  await rm(metaPathOf(checkoutPath), { force: true })
}
