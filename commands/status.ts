import { z } from 'zod'
import { commandInput, JobIdArg } from '../src/commands-core/command-input.js'
import type { CommandSpec } from '../src/commands-core/command-spec.js'
import { describeJob, findJob } from '../src/commands-core/find-job.js'
import { reply } from '../src/commands-core/reply.js'

export const StatusArgs = commandInput({
  positionals: z.array(JobIdArg).max(1, 'give at most one job id'),
}).transform((i) => ({ job: i.positionals[0] }))
export type StatusArgs = z.infer<typeof StatusArgs>

/** Most jobs listed in one `/status` reply. */
const LIST_MAX = 20

export const status: CommandSpec<StatusArgs> = {
  name: 'status',
  aliases: ['jobs'],
  permission: 'read',
  args: StatusArgs,
  help: {
    usage: '/status [job]',
    description: 'Shows the state of one job, or of all jobs on this issue or pull request.',
    examples: ['/status', '/status j0123456789ab'],
  },
  async handle(ctx, args) {
    if (args.job) {
      const found = await findJob(ctx, args.job)
      return [reply(ctx, 'status', 'error' in found ? found.error : describeJob(found.job))]
    }
    const jobs = await ctx.jobs.listForIssue(ctx.repo, ctx.event.issue.number)
    if (jobs.length === 0)
      return [reply(ctx, 'status', 'No jobs on this issue yet. Start one with `/run <tool>`.')]
    const lines = jobs.slice(0, LIST_MAX).map((j) => `- ${describeJob(j)}`)
    if (jobs.length > LIST_MAX) lines.push(`- … and ${jobs.length - LIST_MAX} older jobs`)
    return [reply(ctx, 'status', lines.join('\n'))]
  },
}
