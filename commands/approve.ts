import { z } from 'zod'
import { commandInput, JobIdArg } from '../src/commands-core/command-input.js'
import type { CommandSpec } from '../src/commands-core/command-spec.js'
import { approverRefusal } from '../src/commands-core/approver-refusal.js'
import { findJob } from '../src/commands-core/find-job.js'
import { reply } from '../src/commands-core/reply.js'
import { codeSpan, inlineText } from '../src/commands-core/markdown.js'

export const ApproveArgs = commandInput({
  positionals: z
    .array(JobIdArg)
    .min(1, 'name the job to approve, e.g. /approve j0123456789ab')
    .max(2, 'name the job, and for a running job the request its comment shows: /approve <job> <request>'),
}).transform((i) => ({ job: i.positionals[0] as string, request: i.positionals[1] }))
export type ApproveArgs = z.infer<typeof ApproveArgs>

export const approve: CommandSpec<ApproveArgs> = {
  name: 'approve',
  aliases: [],
  permission: 'sovereign',
  args: ApproveArgs,
  help: {
    usage: '/approve <job> [request]',
    description:
      "Approves a job waiting for approval: only a sovereign of the job's house, and not its requester unless the house allows self-approval. The approval is bound to the job's digest (house, tool, arguments, mode) and expires. A running agent job that waits for a decision (its agent asks to run something, a write that leaves the checkout, or the exact diff an implementation is about to push) is approved the same way, naming the request its comment shows (`/approve <job> <request>`): the approval is bound to that request and what it asks, so an approval meant for an earlier request never approves a later one.",
    examples: ['/approve j0123456789ab', '/approve j0123456789ab diff-3f2a9c1b7e04'],
  },
  async handle(ctx, args) {
    const found = await findJob(ctx, args.job)
    if ('error' in found) return [reply(ctx, 'approve', found.error)]
    const { job } = found
    const by = ctx.requester.login
    const effects = [
      {
        type: 'approveJob' as const,
        jobId: job.id,
        by,
        digest: job.digest,
        comment: {
          ...(ctx.event.commentId === undefined ? {} : { id: ctx.event.commentId }),
          url: ctx.event.htmlUrl,
        },
      },
      reply(ctx, 'approve', `Approved job \`${job.id}\` (digest \`${job.digest}\`).`),
    ]
    // The router retries a command whose effects did not all apply. If this approver's approval
    // was recorded but the job never reached its house queue (a crash in between), the same
    // effects again let BullJobs.approve finish the move; the reply has the same key, so no
    // second comment appears.
    const approvedByThis = job.approvedBy !== undefined && job.approvedBy.toLowerCase() === by.toLowerCase()
    if (job.state === 'queued' && approvedByThis) return effects
    // A running agent job waiting for a decision: the approval is bound to what it asked.
    if (job.state === 'running' && job.pendingApproval) {
      const refusedNow = approverRefusal(job, by, 'approve')
      if (refusedNow) return [reply(ctx, 'approve', refusedNow)]
      const pending = job.pendingApproval
      // Bound to the request the approver read: a job that asks something else by now (another
      // diff, another call) is not approved by an answer meant for an earlier request.
      if (args.request !== pending.id)
        return [
          reply(
            ctx,
            'approve',
            args.request === undefined
              ? `Job ${codeSpan(job.id)} waits for a decision on ${inlineText(pending.what)}. Name that request to approve it: ${codeSpan(`/approve ${job.id} ${pending.id}`)}.`
              : `Job ${codeSpan(job.id)} does not wait for request ${codeSpan(args.request)} (any more); it waits for ${inlineText(pending.what)}, request ${codeSpan(pending.id)}. Nothing was approved: read its comment, then ${codeSpan(`/approve ${job.id} ${pending.id}`)} if you agree.`,
          ),
        ]
      return [
        { ...effects[0]!, digest: pending.digest },
        reply(
          ctx,
          'approve',
          `Approved ${inlineText(pending.what)} for job ${codeSpan(job.id)} (digest ${codeSpan(pending.digest)}); the agent goes on.`,
        ),
      ]
    }
    if (job.state !== 'awaiting_approval') {
      return [
        reply(
          ctx,
          'approve',
          `Job \`${job.id}\` is **${job.state.replace('_', ' ')}**, not awaiting approval.`,
        ),
      ]
    }
    // Only the job's own house's sovereigns, and not its requester unless the house allows it:
    // anything else the worker's harness would deny after the bot said "Approved".
    const refused = approverRefusal(job, by, 'approve')
    if (refused) return [reply(ctx, 'approve', refused)]
    return effects
  },
}
