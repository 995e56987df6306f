import { z } from 'zod'
import { commandInput, JobIdArg } from '../src/commands-core/command-input.js'
import type { CommandSpec } from '../src/commands-core/command-spec.js'
import { findJob } from '../src/commands-core/find-job.js'
import { reply } from '../src/commands-core/reply.js'
import type { JobState } from '../src/jobs/jobs.js'

export const RetryArgs = commandInput({
  positionals: z.array(JobIdArg).length(1, 'name the job to retry, e.g. /retry j0123456789ab'),
}).transform((i) => ({ job: i.positionals[0] as string }))
export type RetryArgs = z.infer<typeof RetryArgs>

/**
 * A success is not retried. A denied job is: the retried run asks for approval again (the expiry
 * message says `/retry <job>` asks again), so a retry never undoes a sovereign's denial by itself.
 */
export const RETRYABLE_STATES: ReadonlySet<JobState> = new Set([
  'failure',
  'timeout',
  'cancelled',
  'unverified',
  'denied',
])

export const retry: CommandSpec<RetryArgs> = {
  name: 'retry',
  aliases: ['rerun'],
  permission: 'write',
  args: RetryArgs,
  help: {
    usage: '/retry <job>',
    description:
      'Runs a job that ended in failure, timeout, cancelled, unverified or denied again, with the same house, tool, arguments and approval policy (a job that needed approval asks for it again).',
    examples: ['/retry j0123456789ab'],
  },
  async handle(ctx, args) {
    const found = await findJob(ctx, args.job)
    if ('error' in found) return [reply(ctx, 'retry', found.error)]
    const { job } = found
    const effects = [
      {
        type: 'retryJob' as const,
        jobId: job.id,
        by: ctx.requester.login,
        byId: ctx.requester.id,
        key: ctx.jobId,
      },
      reply(
        ctx,
        'retry',
        `Retrying job \`${job.id}\`; its comment is updated as it runs.` +
          (job.checkout
            ? ` Like a new job, it works on this issue's workspace as it is now (the current ${job.checkout.target} when the workspace is clean, else the work in it), not necessarily on the commit it ran on before.`
            : ''),
      ),
    ]
    // This very command already started the new run (the router retries a command whose effects
    // did not all apply): repeat the effects so BullJobs.retry can finish what a crash cut short
    // (queue the run); the reply has the same key, so no second comment appears.
    if (job.retryKeys.includes(ctx.jobId)) return effects
    if (!RETRYABLE_STATES.has(job.state)) {
      return [
        reply(
          ctx,
          'retry',
          `Job \`${job.id}\` is **${job.state.replace('_', ' ')}**; only jobs that ended in failure, timeout, cancelled, unverified or denied can be retried.`,
        ),
      ]
    }
    return effects
  },
}
