import { z } from 'zod'
import { assertUnderPrefix } from '../git/branch-prefix.js'
import { GitRefName } from '../git/git-repo.js'
import { ToolError, type ToolSpec } from '../tool.js'
import { RepoArg, giteaOf, viaPort } from './gitea-args.js'
import type { GiteaToolsPort, GiteaToolsPullRequest, RepoRef } from './gitea-tools-port.js'

/** Gitea's default `[repository.pull-request] WORK_IN_PROGRESS_PREFIXES`, matched case-insensitively as Gitea does. */
const WIP_PREFIXES = ['WIP:', '[WIP]']
const TITLE_MAX = 255
const WIP_MARK = 'WIP: '

function isWip(title: string): boolean {
  const upper = title.toUpperCase()
  return WIP_PREFIXES.some((p) => upper.startsWith(p))
}

export const GiteaCreatePrArgs = z
  .object({
    repo: RepoArg,
    /** The pushed branch to merge from; must be under the house's prefix (default `uw/<house>/`). */
    head: GitRefName,
    /** The branch to merge into; the repository's default branch when absent. */
    base: GitRefName.optional(),
    title: z.string().min(1).max(TITLE_MAX),
    body: z.string().max(65_536).default(''),
    /** Open it as work in progress: the title gets Gitea's `WIP: ` prefix. */
    draft: z.boolean().default(false),
  })
  .strict()
  .refine((a) => !a.draft || isWip(a.title) || a.title.length + WIP_MARK.length <= TITLE_MAX, {
    message: `with draft the title gets "${WIP_MARK}" in front, so it may have ${TITLE_MAX - WIP_MARK.length} characters at most`,
    path: ['title'],
  })

/** The title Gitea gets: a draft is marked the way Gitea marks work in progress. */
export function prTitle(title: string, draft: boolean): string {
  return draft && !isWip(title) ? `${WIP_MARK}${title}` : title
}

const PAGE = 50
const MAX_PAGES = 20

/** The open pull request from `head` into `base`, looked for in the first 1,000 open ones. */
async function findOpen(
  gitea: GiteaToolsPort,
  repo: RepoRef,
  head: string,
  base: string,
): Promise<GiteaToolsPullRequest | undefined> {
  for (let page = 1; page <= MAX_PAGES; page++) {
    const prs = await viaPort('listPullRequests', () =>
      gitea.listPullRequests(repo, { state: 'open', page, limit: PAGE }),
    )
    const found = prs.find((p) => p.state === 'open' && p.headRef === head && p.baseRef === base)
    if (found) return found
    if (prs.length < PAGE) return undefined
  }
  return undefined
}

interface PrData {
  number: number
  url: string
  head: string
  base: string
  headSha: string
  created: boolean
}

function answer(pr: GiteaToolsPullRequest, head: string, base: string, created: boolean) {
  const data: PrData = { number: pr.number, url: pr.htmlUrl, head, base, headSha: pr.headSha, created }
  const output = created
    ? `opened PR #${pr.number}: ${pr.htmlUrl}`
    : `PR #${pr.number} already open: ${pr.htmlUrl}`
  return { output, data }
}

/** Whether a port error says the request may have been applied although it failed (a lost answer). */
function mayHaveBeenApplied(err: unknown): boolean {
  return (err as { mayHaveBeenApplied?: unknown }).mayHaveBeenApplied === true
}

/**
 * `gitea_create_pr`: open a pull request from a pushed branch under the house's prefix, or find the
 * one already open for the same head and base instead of opening a second. Never merges, never
 * approves: the port has no call for either. Verified by reading the pull request back by number:
 * open, same head and base.
 *
 * @example
 *   await giteaCreatePr.run(
 *     GiteaCreatePrArgs.parse({ repo: 'org/app', head: 'uw/bezalel/fix-typo', title: 'Fix typo' }),
 *     ctx,
 *   ) // { output: 'opened PR #7: https://gitea.example/org/app/pulls/7', data: { number: 7, created: true, ... } }
 */
export const giteaCreatePr: ToolSpec<typeof GiteaCreatePrArgs> = {
  name: 'gitea_create_pr',
  category: 'gitea',
  description:
    "Open a pull request from a pushed branch under the house's prefix (or return the open one); never merges or approves.",
  args: GiteaCreatePrArgs,
  access: 'write',
  timeoutMs: 30_000,
  target: (args) => `pr:${args.repo.owner}/${args.repo.name}:${args.head}`,
  async run(args, ctx) {
    const gitea = giteaOf(ctx)
    const { repo, head } = args
    const where = `${repo.owner}/${repo.name}`
    assertUnderPrefix(head, ctx)
    const repository = await viaPort('getRepository', () => gitea.getRepository(repo))
    const base = args.base ?? repository.defaultBranch
    if (head === base || head === repository.defaultBranch)
      throw new ToolError(`refused: the head branch "${head}" is the base or the default branch of ${where}`)
    const branch = await viaPort('getBranch', () => gitea.getBranch(repo, head))
    if (!branch)
      throw new ToolError(
        `refused: branch "${head}" does not exist in ${where}: push the branch first (git_push)`,
      )
    const existing = await findOpen(gitea, repo, head, base)
    if (existing) return answer(existing, head, base, false)
    const input = { head, base, title: prTitle(args.title, args.draft), body: args.body }
    try {
      return answer(await gitea.createPullRequest(repo, input), head, base, true)
    } catch (err) {
      const status = (err as { status?: unknown }).status
      // 409: another run opened it between our look and our request. A lost answer: ours may have.
      if (status === 409 || mayHaveBeenApplied(err)) {
        const found = await findOpen(gitea, repo, head, base)
        if (found) return answer(found, head, base, status !== 409)
      }
      if (mayHaveBeenApplied(err)) {
        const message = String((err as { message?: unknown }).message).replace(
          /; not retried: Gitea may have applied it$/,
          '',
        )
        throw new ToolError(
          `createPullRequest failed: ${message}; no open pull request from ${head} into ${base} was ` +
            'found afterwards, and it is not requested again: Gitea may have applied it',
          false,
          { cause: err, fault: 'dependency' },
        )
      }
      return viaPort('createPullRequest', () => Promise.reject(err))
    }
  },
  async verify(args, result, ctx) {
    const made = result.data as PrData
    const back = await viaPort('getPullRequest', () => giteaOf(ctx).getPullRequest(args.repo, made.number))
    if (back.state !== 'open' || back.merged || back.headRef !== made.head || back.baseRef !== made.base)
      return undefined
    return {
      kind: 'gitea-pr',
      summary: `PR #${back.number} is open from ${back.headRef} into ${back.baseRef}`,
      detail: {
        number: back.number,
        url: back.htmlUrl,
        head: back.headRef,
        base: back.baseRef,
        headSha: back.headSha,
      },
    }
  },
}
