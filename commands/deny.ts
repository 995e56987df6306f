import { z } from 'zod'
import { commandInput, JobIdArg } from '../src/commands-core/command-input.js'
import type { CommandSpec } from '../src/commands-core/command-spec.js'
import { approverRefusal } from '../src/commands-core/approver-refusal.js'
import { findJob } from '../src/commands-core/find-job.js'
import { codeSpan, inlineText } from '../src/commands-core/markdown.js'
import { reply } from '../src/commands-core/reply.js'

export const DenyArgs = commandInput({
  positionals: z
    .array(z.string())
    .min(1, 'name the job to deny, e.g. /deny j0123456789ab "reason"')
    .refine(
      (p) => p.length === 0 || JobIdArg.safeParse(p[0]).success,
      'the first argument is a job id such as j0123456789ab',
    ),
}).transform((i) => ({
  job: i.positionals[0] as string,
  reason: i.positionals.slice(1).join(' ') || undefined,
}))
export type DenyArgs = z.infer<typeof DenyArgs>

export const deny: CommandSpec<DenyArgs> = {
  name: 'deny',
  aliases: ['reject'],
  permission: 'sovereign',
  args: DenyArgs,
  help: {
    usage: '/deny <job> [reason]',
    description:
      "Refuses a job waiting for approval (a sovereign of the job's house); it ends **denied**, with the reason in its comment. For a running agent job waiting for a decision, only that request is refused: the agent is told and goes on (an implementation whose push is refused ends **denied**).",
    examples: [
      '/deny j0123456789ab',
      '/deny j0123456789ab "not during the freeze"',
      '/deny j0123456789ab too risky today',
    ],
  },
  async handle(ctx, args) {
    const found = await findJob(ctx, args.job)
    if ('error' in found) return [reply(ctx, 'deny', found.error)]
    const { job } = found
    const waiting = job.state === 'running' && job.pendingApproval !== undefined
    if (job.state !== 'awaiting_approval' && !waiting) {
      return [
        reply(ctx, 'deny', `Job \`${job.id}\` is **${job.state.replace('_', ' ')}**, not awaiting approval.`),
      ]
    }
    // A sovereign of another house decides nothing here; the requester may withdraw their own request.
    const refused = approverRefusal(job, ctx.requester.login, 'deny')
    if (refused) return [reply(ctx, 'deny', refused)]
    return [
      { type: 'denyJob', jobId: job.id, by: ctx.requester.login, reason: args.reason },
      reply(
        ctx,
        'deny',
        `Denied job ${codeSpan(job.id)}${args.reason ? `: ${inlineText(args.reason)}` : ''}.`,
      ),
    ]
  },
}
