import { z } from 'zod'
import { GitRefName } from '../tools/git/git-repo.js'

/**
 * A Gitea owner or repository name: Gitea's charset (letters, digits, `_`, `-`, `.`), never `.` or
 * `..`, so it is safe as one path segment. Gitea names are case-insensitive; the mirror key is
 * lower-cased (see `repoKeyOf`).
 */
export const RepoSegment = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.-]+$/, 'not a Gitea owner or repository name')
  .refine((s) => s !== '.' && s !== '..', 'not a Gitea owner or repository name')

/** A 40- or 64-hex commit id (SHA-1 or SHA-256 repositories). */
export const CommitSha = z.string().regex(/^([0-9a-f]{40}|[0-9a-f]{64})$/, 'not a full commit id')

/**
 * What to check out. `default`: the head of the default branch (a job from an issue). `pull`: a
 * pull request's head commit, with its base branch fetched too. `ref`: a branch, tag or commit id
 * named by the user (`/run ... ref=<ref>`): never option-like, never a revision expression.
 */
export const CheckoutTarget = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('default'), branch: GitRefName }),
  z.object({
    kind: z.literal('pull'),
    number: z.number().int().positive(),
    headSha: CommitSha,
    baseRef: GitRefName,
  }),
  z.object({ kind: z.literal('ref'), ref: GitRefName }),
])
export type CheckoutTarget = z.infer<typeof CheckoutTarget>

/**
 * One job's request for a checkout. `jobId` names the checkout directory (any string: it is
 * slugged and hashed), so two runs that must not share a directory need different ids (add the
 * run id to a retried run's).
 *
 * @example
 *   CheckoutRequest.parse({
 *     repo: { owner: 'acme', name: 'api' },
 *     cloneUrl: 'https://git.example.com/acme/api.git',
 *     jobId: 'job-17.run-1',
 *     target: { kind: 'pull', number: 4, headSha: 'a'.repeat(40), baseRef: 'main' },
 *   })
 */
export const CheckoutRequest = z.object({
  repo: z.object({ owner: RepoSegment, name: RepoSegment }),
  /** The http(s) clone URL from the Gitea API, without credentials. */
  cloneUrl: z.string().min(1).max(2048),
  jobId: z.string().min(1).max(512),
  target: CheckoutTarget,
  /**
   * Work in the issue workspace of this issue or pull request and house instead of a checkout of
   * the job's own: one checkout shared, in order, by the jobs of one issue (docs/CHECKOUTS.md).
   */
  workspace: z
    .object({
      issue: z.number().int().positive(),
      house: z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, 'not a house name'),
    })
    .optional(),
  /**
   * The job's work outlives its worker (a Hermes agent goes on working in the checkout when the
   * worker dies): a checkout this job's earlier delivery left is kept as it is, not made afresh,
   * and a crash leaves the checkout to `sweep` only after this many ms, for the job's next delivery.
   */
  resumeMs: z.number().int().positive().optional(),
})
export type CheckoutRequest = z.infer<typeof CheckoutRequest>

/** `owner/name`, lower-cased: one mirror per repository whatever the case it was named in. */
export function repoKeyOf(repo: { owner: string; name: string }): string {
  return `${repo.owner}/${repo.name}`.toLowerCase()
}
