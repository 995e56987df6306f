import { z } from 'zod'
import { commandInput, JobIdArg } from '../src/commands-core/command-input.js'
import type { CommandSpec } from '../src/commands-core/command-spec.js'
import { findJob } from '../src/commands-core/find-job.js'
import { reply } from '../src/commands-core/reply.js'
import { FINAL_STATES } from '../src/jobs/jobs.js'

export const CancelArgs = commandInput({
  positionals: z.array(JobIdArg).length(1, 'name the job to cancel, e.g. /cancel j0123456789ab'),
}).transform((i) => ({ job: i.positionals[0] as string }))
export type CancelArgs = z.infer<typeof CancelArgs>

export const cancel: CommandSpec<CancelArgs> = {
  name: 'cancel',
  aliases: ['abort'],
  permission: 'write',
  args: CancelArgs,
  help: {
    usage: '/cancel <job>',
    description:
      'Cancels a job: a queued job is removed; a running job is aborted through its signal and its tool process is killed.',
    examples: ['/cancel j0123456789ab'],
  },
  async handle(ctx, args) {
    const found = await findJob(ctx, args.job)
    if ('error' in found) return [reply(ctx, 'cancel', found.error)]
    const { job } = found
    if (FINAL_STATES.has(job.state)) {
      return [reply(ctx, 'cancel', `Job \`${job.id}\` already ended (**${job.state}**); nothing to cancel.`)]
    }
    return [
      { type: 'cancelJob', jobId: job.id, by: ctx.requester.login, reason: undefined },
      reply(
        ctx,
        'cancel',
        `Cancelling job \`${job.id}\`; its comment will say **cancelled** when it has stopped.`,
      ),
    ]
  },
}
