/**
 * Checkouts: each job works in its own checkout of the repository its command was written in.
 * A bare mirror per repository (`<root>/mirrors/<owner>/<name>.git`), fetched before each job, one
 * fetch at a time per repository; a separate clone per job (`<root>/worktrees/<job>`), made from
 * the mirror with hard links and checked out at the job's commit with the hardened git of the git
 * tools. The bot's token reaches git only through its environment. docs/CHECKOUTS.md has the
 * layout, locking, eviction and what each error means.
 *
 * @example
 *   const co = await checkouts.prepare(
 *     { repo: { owner: 'acme', name: 'api' }, cloneUrl, jobId: `${job.id}.${job.runId}`,
 *       target: { kind: 'pull', number: 4, headSha, baseRef: 'main' } },
 *     signal,
 *   )
 *   // co.path: the job's workspace root; co.commit: the commit it ran on (record, comment, statement)
 *   await co.release(ok ? 'success' : 'failure')
 */
export { CheckoutManager, type Checkout, type CheckoutManagerOptions } from './checkout-manager.js'
export { CheckoutError, type CheckoutFailure } from './checkout-error.js'
export { CheckoutRequest, CheckoutTarget, CommitSha, RepoSegment, repoKeyOf } from './checkout-request.js'
export type { GitRunner } from './checkout-git.js'
