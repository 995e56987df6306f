import type { CommandContext } from './command-spec.js'
import type { JobView } from '../jobs/jobs.js'
import { didYouMean } from './did-you-mean.js'

/**
 * Looks up a job named in a command. Jobs of other repositories are reported as unknown, so a
 * public repository cannot be used to peek at a private one's jobs.
 *
 * @example
 *   const found = await findJob(ctx, 'j0123456789ab')
 *   if ('error' in found) return [reply(ctx, 'cancel', found.error)]
 */
export async function findJob(
  ctx: CommandContext,
  jobId: string,
): Promise<{ job: JobView } | { error: string }> {
  const job = await ctx.jobs.get(jobId)
  if (job && job.repo.owner === ctx.repo.owner && job.repo.name === ctx.repo.name) return { job }
  const here = await ctx.jobs.listForIssue(ctx.repo, ctx.event.issue.number)
  const close = didYouMean(
    jobId,
    here.map((j) => j.id),
  )
  const hint = close.length > 0 ? ` Did you mean ${close.map((c) => `\`${c}\``).join(' or ')}?` : ''
  return {
    error: `There is no job \`${jobId}\` in this repository.${hint} \`/status\` lists the jobs on this issue.`,
  }
}

/**
 * One line about a job for replies.
 *
 * @example
 *   describeJob(job) // '`j0123456789ab`: `git_status` on **bezalel**, asked by @ann, **running** since ...'
 */
export function describeJob(job: JobView): string {
  const when = job.finishedAt ?? job.startedAt ?? job.createdAt
  const where = job.checkout
    ? `, in a checkout of ${job.checkout.target}${job.checkout.commit ? ` at \`${job.checkout.commit.slice(0, 12)}\`` : ''}`
    : ''
  return `\`${job.id}\`: \`${job.tool}\` on **${job.house}**, asked by @${job.requester}, **${job.state.replace('_', ' ')}** since ${when}${where}`
}
